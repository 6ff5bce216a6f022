package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.DrException;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.PostgresFacts;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TargetNamesTest {
    private static final String ID = "20261122T060000Z-k3m9qa";

    private static Manifest backupOf(List<DatabaseFacts> facts) {
        List<Artifact> dumps = facts.stream().map(f -> new Artifact(f.name(), "postgres", "d/backups/" + ID + "/postgres/" + f.name() + ".dump.zst",
                1, 1, "a", "b", "zstd", "none", null)).toList();
        return new Manifest(1, ID, "d", "test", Manifest.COMPLETED, Instant.EPOCH, Instant.EPOCH, dumps, null, null,
                new PostgresFacts("h", 5432, "15", "15", facts, null), null, null);
    }

    @Test
    void namesDeriveFromTheBackupIdAndACopyOfACopyDoesNotGrow() {
        Manifest m = backupOf(List.of(new DatabaseFacts("dify_restore_20261101t020000_ab12cd", null, 0, Map.of()).withRoles(List.of("main")),
                new DatabaseFacts("dify_plugin", null, 0, Map.of()).withRoles(List.of("plugin"))));

        assertThat(TargetNames.of(m, List.of())).containsExactly(
                Map.entry("dify_restore_20261101t020000_ab12cd", "dify_restore_20261122t060000_k3m9qa"),
                Map.entry("dify_plugin", "dify_plugin_restore_20261122t060000_k3m9qa"));
        assertThat(TargetNames.copyName("dify_drill_20261101t020000_ab12cd", "drill", "20261201T010203Z-zz99zz"))
                .isEqualTo("dify_drill_20261201t010203_zz99zz");
        assertThat(TargetNames.copyName("my_restore_notes", "restore", ID)).isEqualTo("my_restore_notes_restore_20261122t060000_k3m9qa");
    }

    @Test
    void aBareNameNamesTheCopyOfTheDatabaseTheBackupRecordedAsMain() {
        Manifest m = backupOf(List.of(new DatabaseFacts("dify_plugin", null, 0, Map.of()).withRoles(List.of("plugin")),
                new DatabaseFacts("dify_restore_20261101t020000_ab12cd", null, 0, Map.of()).withRoles(List.of("main"))));

        assertThat(TargetNames.of(m, List.of("fresh"))).containsEntry("dify_restore_20261101t020000_ab12cd", "fresh");
        assertThat(DatabaseSteps.roles(m, "dify_plugin")).containsExactly("plugin");
    }

    @Test
    void badNamesAreRefusedSayingWhy() {
        Manifest m = backupOf(List.of(new DatabaseFacts("dify", null, 0, Map.of()), new DatabaseFacts("dify_plugin", null, 0, Map.of())));

        assertThatThrownBy(() -> TargetNames.of(m, List.of("1abc"))).isInstanceOf(DrException.class).hasMessageContaining("must be 1-63 letters");
        assertThatThrownBy(() -> TargetNames.of(m, List.of("nope=x"))).hasMessageContaining("has no database 'nope'");
        assertThatThrownBy(() -> TargetNames.of(m, List.of("dify=same", "dify_plugin=same"))).hasMessageContaining("into the same name");
        assertThat(DatabaseSteps.roles(m, "dify")).as("guessed without recorded roles").containsExactly("main");
        assertThat(DatabaseSteps.roles(m, "dify_plugin")).containsExactly("plugin");
    }
}
