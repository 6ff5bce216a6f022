package dev.difydr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.Failure;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.testsupport.CliRun;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code decrypt} on a repository without encryption: the stored bytes copied to stdout, checked, and nothing else there. */
class DecryptCommandTest {
    private static final String ID = "20261205T020000Z-abcdef";

    @TempDir
    Path dir;

    private Path config;
    private String path;
    private final byte[] stored = new byte[200_000];

    @BeforeEach
    void plainBackup() throws Exception {
        new SplittableRandom(5).nextBytes(stored);
        Path root = dir.resolve("repo");
        try (Repository repository = new Repository(new FileObjectStore(root), "dify")) {
            BackupId id = new BackupId(ID);
            path = repository.layout().postgresDump(id, "dify");
            repository.store().put(path, stored);
            repository.commit(new Manifest(Manifest.FORMAT_VERSION, ID, "dify", "test", Manifest.COMPLETED, id.time(), id.time().plusSeconds(5),
                    List.of(new Artifact("dify", "postgres", path, 1, stored.length, sha256(stored), "p", "zstd", Artifact.NONE, null)),
                    null, null, null, null, null));
        }
        config = dir.resolve("dify-dr.yaml");
        Files.writeString(config, "repository:\n  url: " + root.toUri() + "\n");
    }

    @Test
    void anUnencryptedArtifactIsCopiedToStdoutAsItIs() {
        Captured run = decrypt("decrypt", path);

        assertThat(run.cli.code()).as(run.cli.everything()).isZero();
        assertThat(run.stdout).isEqualTo(stored);
        assertThat(run.cli.out()).isEmpty();
        assertThat(run.cli.logs()).contains("artifact " + path + " is not encrypted: its stored bytes are copied as they are");
    }

    @Test
    void changedBytesFailAfterTheCopyAndSayToDiscardIt() throws IOException {
        Path file = dir.resolve("repo").resolve(path);
        byte[] changed = stored.clone();
        changed[1234] ^= 0x01;
        Files.write(file, changed);

        Captured run = decrypt("decrypt", path);

        assertThat(run.cli.code()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(run.cli.err()).contains("artifact " + path + " is damaged: its sha256 differs from the manifest's",
                "the " + stored.length + " bytes already written to stdout are incomplete or unverified: discard them");
    }

    @Test
    void aPathOutsideTheBackupsOrNotInTheManifestIsRefusedBeforeAnyByte() {
        Captured outside = decrypt("decrypt", "other/backups/" + ID + "/postgres/dify.dump.zst");
        assertThat(outside.cli.code()).isEqualTo(Failure.USAGE.exitCode());
        assertThat(outside.cli.err()).contains("is not the path of an artifact of deployment 'dify'", "dify/backups/<backup id>/");
        assertThat(outside.stdout).isEmpty();

        String missing = path.replace("dify.dump.zst", "dify_plugin.dump.zst");
        Captured absent = decrypt("decrypt", missing);
        assertThat(absent.cli.code()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(absent.cli.err()).contains("backup " + ID + " has no artifact " + missing + "; its artifacts: " + path);
        assertThat(absent.stdout).isEmpty();

        Captured json = decrypt("--json", "decrypt", path);
        assertThat(json.cli.code()).isEqualTo(Failure.USAGE.exitCode());
        assertThat(json.cli.err()).contains("--json does not apply");
    }

    private record Captured(CliRun cli, byte[] stdout) {
    }

    /** A run whose raw stdout (where decrypt writes) is kept apart from the logs. */
    private Captured decrypt(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--config";
        all[1] = config.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(bytes, true));
        try {
            return new Captured(CliRun.of(all), bytes.toByteArray());
        } finally {
            System.setOut(original);
        }
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
