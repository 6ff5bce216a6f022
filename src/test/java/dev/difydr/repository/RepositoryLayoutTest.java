package dev.difydr.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RepositoryLayoutTest {
    private final RepositoryLayout layout = new RepositoryLayout("prod");
    private final BackupId id = new BackupId("20261122T060000Z-k3m9qa");

    @Test
    void keysFollowTheDocumentedLayout() {
        assertThat(layout.manifest(id)).isEqualTo("prod/backups/20261122T060000Z-k3m9qa/manifest.json");
        assertThat(layout.postgresDump(id, "dify_plugin")).isEqualTo("prod/backups/20261122T060000Z-k3m9qa/postgres/dify_plugin.dump.zst");
        assertThat(layout.encrypted(layout.kubernetesResources(id))).isEqualTo("prod/backups/20261122T060000Z-k3m9qa/kubernetes/resources.json.zst.enc");
    }

    @Test
    void findsTheBackupOfAKey() {
        assertThat(layout.backupOf(layout.postgresDump(id, "dify"))).contains(id);
        assertThat(layout.backupOf("prod/backups/not-an-id/x")).isEmpty();
        assertThat(layout.backupOf("staging/backups/20261122T060000Z-k3m9qa/manifest.json")).isEmpty();
        assertThat(layout.isManifest(layout.manifest(id))).isTrue();
        assertThat(layout.isManifest("prod/backups/20261122T060000Z-k3m9qa/postgres/manifest.json")).isFalse();
        assertThat(layout.verifyRecord(id)).isEqualTo("prod/backups/20261122T060000Z-k3m9qa/verify.json");
        assertThat(layout.isVerifyRecord(layout.verifyRecord(id))).isTrue();
        assertThat(layout.isManifest(layout.verifyRecord(id))).isFalse();
        assertThat(layout.isVerifyRecord("prod/backups/20261122T060000Z-k3m9qa/storage/verify.json")).isFalse();
        assertThat(layout.backupOf(layout.verifyRecord(id))).contains(id);
    }

    @Test
    void idsSortByTimeAndCarryTheirStart() {
        List<BackupId> ids = new ArrayList<>();
        Instant base = Instant.parse("2026-11-22T06:00:00Z");
        for (int i = 0; i < 50; i++) {
            ids.add(BackupId.at(base.plusSeconds(3600L * (i % 7) + i)));
        }
        List<BackupId> byValue = new ArrayList<>(ids);
        byValue.sort(null);
        List<BackupId> byTime = new ArrayList<>(ids);
        byTime.sort((a, b) -> a.time().compareTo(b.time()));
        assertThat(byValue).extracting(BackupId::time).isEqualTo(byTime.stream().map(BackupId::time).toList());
        assertThat(BackupId.at(base).time()).isEqualTo(base);
        assertThat(BackupId.at(base).value()).matches("20261122T060000Z-[a-z0-9]{6}");
    }

    @Test
    void rejectsMalformedIds() {
        assertThatThrownBy(() -> new BackupId("../../etc")).isInstanceOf(IllegalArgumentException.class);
        assertThat(BackupId.isValid("20261122T060000Z-K3M9QA")).isFalse();
    }
}
