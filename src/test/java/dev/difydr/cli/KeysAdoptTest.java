package dev.difydr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.Failure;
import dev.difydr.backup.BackupContext;
import dev.difydr.config.CompressionConfig;
import dev.difydr.crypto.Keyring;
import dev.difydr.crypto.KeysetFile;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.testsupport.CliRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backups from before encryption was configured count again once {@code keys adopt} has checked their data and sealed them. */
class KeysAdoptTest {
    @TempDir
    Path dir;

    @Test
    void adoptSealsTheBackupsWhoseDataMatchAndRefusesTheOthers() throws IOException {
        Path repo = dir.resolve("repo");
        String good = "20261201T020000Z-aaaaaa";
        String changed = "20261202T020000Z-bbbbbb";
        try (Repository clear = new Repository(new FileObjectStore(repo), "prod")) {
            backup(clear, good);
            String key = backup(clear, changed);
            Files.writeString(repo.resolve(key), "not what was stored");
        }
        Path keyset = Files.writeString(dir.resolve("keyset.json"), new KeysetFile(Keyring.generate(), Map.of(), null).write());
        Path config = Files.writeString(dir.resolve("dify-dr.yaml"), """
                deployment: prod
                repository: {url: "file://%s"}
                encryption: {keyset: "${file:%s}"}
                """.formatted(repo, keyset));

        CliRun before = CliRun.of("--config", config.toString(), "list");
        assertThat(before.out()).contains(good).contains("damaged");
        assertThat(before.err() + before.out()).contains("keys adopt " + good);

        CliRun adopt = CliRun.of("--config", config.toString(), "keys", "adopt", "--all");

        assertThat(adopt.code()).as(adopt.everything()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(adopt.out()).containsPattern(good + "\\s+sealed").containsPattern(changed + "\\s+refused\\s+its data does not match");
        CliRun latest = CliRun.of("--config", config.toString(), "--json", "list");
        assertThat(latest.out()).containsPattern("\"id\" : \"" + good + "\",\\s+\"status\" : \"completed\"");
        assertThat(CliRun.of("--config", config.toString(), "verify", "latest", "--read-data").out()).contains(good);
        assertThat(CliRun.of("--config", config.toString(), "keys", "adopt", good).out()).contains("already sealed");
    }

    /** A real one-artifact backup written without encryption; returns its artifact's key. */
    private static String backup(Repository repository, String id) {
        BackupId backupId = new BackupId(id);
        BackupContext context = new BackupContext(backupId, repository.layout(), repository.store(), null, CompressionConfig.DEFAULT,
                name -> Progress.none());
        Artifact a = context.store("dify", "postgres", repository.layout().postgresDump(backupId, "dify"),
                out -> out.write(("dump of " + id).repeat(1000).getBytes(StandardCharsets.UTF_8)));
        Instant started = backupId.time().plusMillis(100);
        repository.commit(new Manifest(Manifest.FORMAT_VERSION, id, "prod", "test", Manifest.COMPLETED, started, started.plusSeconds(1),
                List.of(a), null, null, null, null, null));
        return a.path();
    }
}
