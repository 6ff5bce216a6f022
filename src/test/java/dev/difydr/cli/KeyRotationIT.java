package dev.difydr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.Failure;
import dev.difydr.config.Secret;
import dev.difydr.crypto.Keyring;
import dev.difydr.crypto.KeysetFile;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.LocalPostgres;
import dev.difydr.testsupport.PostgresServer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup under key A, {@code keys rotate}, a backup under key B: both verify, drill back to the source and come out
 * of {@code decrypt | zstd -dc} as the plain dumps, with the rotated keyset; the keyset from before the rotation
 * cannot read the newer backup and says which artifact and key. The keyset is wrapped with a passphrase throughout.
 */
class KeyRotationIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DATABASES = List.of("dify", "dify_plugin");
    /** 1 MiB: the ciphertext segment; the bulk table makes the plugin dump span several. */
    private static final int SEGMENT = 1 << 20;
    private static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};

    @TempDir
    static Path tmp;

    private static PostgresServer pg;
    private static final Map<String, String> sourceDumps = new LinkedHashMap<>();
    private static Path repository;
    private static Path keyset;
    private static Path keysetBeforeRotation;
    private static Path passphrase;
    private static Path config;
    private static JsonNode backupA;
    private static JsonNode backupB;
    private static long keyA;
    private static long keyB;

    @BeforeAll
    static void backupsBeforeAndAfterARotation() throws IOException {
        pg = PostgresServer.start();
        pg.loadDifyFixtures();
        pg.psql("dify_plugin", "-c", "CREATE TABLE bulk AS SELECT md5(random()::text) || md5(random()::text) AS v FROM generate_series(1, 80000)");
        for (String db : DATABASES) {
            sourceDumps.put(db, pg.comparableDump(db));
        }
        Files.writeString(tmp.resolve("pg-password"), pg.password() + "\n");
        passphrase = tmp.resolve("keyset-passphrase");
        Files.writeString(passphrase, "rotation test passphrase 41b9\n");
        repository = tmp.resolve("repo");
        keyset = tmp.resolve("keyset.json");
        config = config("dify-dr", keyset, "");

        CliRun generate = CliRun.of("keys", "generate", "--out", keyset.toString(), "--wrap", "passphrase", "--passphrase-file", passphrase.toString());
        assertThat(generate.code()).as(generate.everything()).isZero();
        keyA = primary(keyset);
        backupA = backup(config);

        keysetBeforeRotation = tmp.resolve("keyset-before-rotation.json");
        Files.copy(keyset, keysetBeforeRotation);
        // in a JVM of its own, as an operator runs it: nothing of the backups' runs is loaded there
        Exit rotate = sh("dify_dr --json keys rotate --keyset \"$1\" --passphrase-file \"$2\"", keyset.toString(), passphrase.toString());
        assertThat(rotate.code()).as(rotate.err()).isZero();
        keyB = JSON.readTree(rotate.out()).get("primary").asLong();
        assertThat(JSON.readTree(rotate.out()).get("previousPrimary").asLong()).isEqualTo(keyA);
        assertThat(keyB).isNotEqualTo(keyA).isEqualTo(primary(keyset));
        backupB = backup(config);
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void eachBackupIsEncryptedUnderThePrimaryKeyOfItsTime() throws IOException {
        for (JsonNode[] b : new JsonNode[][] {{backupA, JSON.valueToTree(keyA)}, {backupB, JSON.valueToTree(keyB)}}) {
            assertThat(b[0].get("artifacts")).hasSize(2);
            for (JsonNode a : b[0].get("artifacts")) {
                assertThat(a.get("encryption").asText()).isEqualTo(Keyring.ALGORITHM);
                assertThat(a.get("path").asText()).endsWith(".dump.zst.enc");
                byte[] head = Arrays.copyOf(Files.readAllBytes(stored(a)), 4);
                assertThat(head).as("%s is no zstd frame without the key", a.get("path").asText()).isNotEqualTo(ZSTD_MAGIC);
            }
            CliRun show = CliRun.of("--config", config.toString(), "--json", "show", b[0].get("id").asText());
            assertThat(show.code()).as(show.everything()).isZero();
            assertThat(JSON.readTree(show.out()).get("artifacts")).allSatisfy(a -> assertThat(a.get("keyId").asLong()).isEqualTo(b[1].asLong()));
        }
    }

    @Test
    void keysListCountsOneBackupUnderEachKey() throws IOException {
        CliRun run = CliRun.of("--config", config.toString(), "--json", "keys", "list");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode listing = JSON.readTree(run.out());
        assertThat(listing.get("keyset").asText()).isEqualTo("encryption.keyset");
        assertThat(listing.get("wrapped").asBoolean()).isTrue();
        assertThat(listing.get("primary").asLong()).isEqualTo(keyB);
        assertThat(listing.get("keys")).hasSize(2);
        assertThat(listing.get("keys")).extracting(k -> k.get("id").asLong()).containsExactly(keyB, keyA);
        assertThat(listing.get("keys")).extracting(k -> k.get("primary").asBoolean()).containsExactly(true, false);
        assertThat(listing.get("keys")).allSatisfy(k -> {
            assertThat(k.get("backups").asInt()).isEqualTo(1);
            assertThat(k.get("inKeyset").asBoolean()).isTrue();
        });
        assertThat(listing.get("unencryptedBackups").asInt()).isZero();
        assertThat(listing.get("damagedBackups").asInt()).isZero();

        // the keyset from before the rotation: key B, which one backup needs, is not in it
        CliRun old = CliRun.of("--config", config.toString(), "keys", "list", "--keyset", keysetBeforeRotation.toString(),
                "--passphrase-file", passphrase.toString());
        assertThat(old.code()).as(old.everything()).isZero();
        assertThat(old.out()).containsPattern("(?m)^" + keyA + " +\\S+ +1 +primary$")
                .containsPattern("(?m)^" + keyB + " +- +1 +NOT IN THIS KEYSET");
    }

    @Test
    void bothBackupsVerifyEveryByteAndDrillBackToTheSource() throws IOException {
        for (JsonNode backup : List.of(backupA, backupB)) {
            String id = backup.get("id").asText();
            CliRun verify = CliRun.of("--config", config.toString(), "--json", "verify", id, "--read-data");
            assertThat(verify.code()).as(verify.everything()).isZero();
            assertThat(JSON.readTree(verify.out()).get("status").asText()).isEqualTo("ok");

            String prefix = backup == backupA ? "a_" : "b_";
            Path drillConfig = config("drill-" + prefix, keyset, """
                    drill:
                      databases: {dify: %sdify, dify_plugin: %sdify_plugin}
                    """.formatted(prefix, prefix));
            CliRun drill = CliRun.of("--config", drillConfig.toString(), "--json", "drill", id, "--keep");
            assertThat(drill.code()).as(drill.everything()).isZero();
            assertThat(JSON.readTree(drill.out()).get("status").asText()).isEqualTo("passed");
            for (String db : DATABASES) {
                assertThat(pg.comparableDump(prefix + db)).as("%s of backup %s", db, id).isEqualTo(sourceDumps.get(db));
                pg.psql("postgres", "-c", "DROP DATABASE \"" + prefix + db + "\"");
            }
        }
    }

    @Test
    void decryptThroughZstdGivesThePlainDumpAndRestoresWithTheStandardTools() throws IOException {
        for (JsonNode backup : List.of(backupA, backupB)) {
            for (JsonNode a : backup.get("artifacts")) {
                Exit run = sh("dify_dr --config \"$1\" decrypt \"$2\" | zstd -q -dc | sha256sum", config.toString(), a.get("path").asText());
                assertThat(run.code()).as(run.err()).isZero();
                assertThat(run.out().split(" ")[0]).as("plain sha256 of %s", a.get("path").asText()).isEqualTo(a.get("plainSha256").asText());
            }
        }

        String dump = artifact(backupA, "dify").get("path").asText();
        pg.createDatabase("decrypted_dify");
        Exit restore = sh("dify_dr --config \"$1\" decrypt \"$2\" | zstd -q -dc | \"$3\" --exit-on-error --no-owner -d decrypted_dify",
                config.toString(), dump, LocalPostgres.tool("pg_restore"));
        assertThat(restore.code()).as(restore.err()).isZero();
        assertThat(restore.err()).as("the log, on stderr").containsPattern("wrote \\d+ bytes of " + dump);
        assertThat(pg.comparableDump("decrypted_dify")).isEqualTo(sourceDumps.get("dify"));
        pg.psql("postgres", "-c", "DROP DATABASE decrypted_dify");
    }

    @Test
    void theKeysetFromBeforeTheRotationCannotDecryptTheNewerBackupAndSaysWhy() throws IOException {
        Path oldConfig = config("old-keyset", keysetBeforeRotation, "");
        String path = artifact(backupB, "dify").get("path").asText();

        CliRun run = CliRun.of("--config", oldConfig.toString(), "decrypt", path);

        assertThat(run.code()).isNotZero();
        assertThat(run.err()).contains("cannot decrypt " + path, "key " + keyB, "lacks");
        assertThat(run.out()).isEmpty();

        CliRun older = CliRun.of("--config", oldConfig.toString(), "verify", backupA.get("id").asText(), "--read-data");
        assertThat(older.code()).as("the older backup still reads with it: %s", older.everything()).isZero();
    }

    @Test
    void aChangedCiphertextFailsTheDecryptAndSaysToDiscardWhatWasWritten() throws IOException {
        JsonNode a = artifact(backupB, "dify_plugin");
        assertThat(a.get("storedBytes").asLong()).as("spans more than one segment").isGreaterThan(SEGMENT + 1000);
        Path file = stored(a);
        byte[] original = Files.readAllBytes(file);
        byte[] changed = original.clone();
        changed[SEGMENT + 500] ^= 0x01;
        Files.write(file, changed);
        try {
            Exit run = sh("dify_dr --config \"$1\" decrypt \"$2\" > \"$3\"", config.toString(), a.get("path").asText(), tmp.resolve("partial").toString());

            assertThat(run.code()).isEqualTo(Failure.VERIFY.exitCode());
            long written = Files.size(tmp.resolve("partial"));
            assertThat(written).as("the first segment authenticated and was written").isGreaterThan(SEGMENT / 2);
            assertThat(run.err()).contains("artifact " + a.get("path").asText(), "does not decrypt under key " + keyB,
                    "the " + written + " bytes already written to stdout are incomplete or unverified: discard them");
        } finally {
            Files.write(file, original);
        }
    }

    private static Path config(String name, Path keysetFile, String extra) throws IOException {
        Path file = tmp.resolve(name + ".yaml");
        Files.writeString(file, """
                deployment: dify
                repository:
                  url: %s
                encryption:
                  keyset: "${file:%s}"
                  passphrase: "${file:%s}"
                """.formatted(repository.toUri(), keysetFile, passphrase) + pg.postgresYaml(tmp.resolve("pg-password")) + extra);
        return file;
    }

    private static JsonNode backup(Path configFile) throws IOException {
        CliRun run = CliRun.of("--config", configFile.toString(), "--json", "backup");
        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode result = JSON.readTree(run.out());
        assertThat(result.get("status").asText()).isEqualTo("completed");
        return result;
    }

    private static long primary(Path keysetFile) throws IOException {
        return KeysetFile.parse(Files.readString(keysetFile), Secret.of(Files.readString(passphrase).strip()), "test").keyring().primaryId();
    }

    private static JsonNode artifact(JsonNode backup, String name) {
        for (JsonNode a : backup.get("artifacts")) {
            if (a.get("name").asText().equals(name)) {
                return a;
            }
        }
        throw new AssertionError("no artifact " + name + " in " + backup);
    }

    private static Path stored(JsonNode artifact) {
        return repository.resolve(artifact.get("path").asText());
    }

    private record Exit(int code, String out, String err) {
    }

    /** Runs {@code script} in bash with pipefail, where {@code dify_dr} is the command line in a JVM of its own. */
    private static Exit sh(String script, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", "-o", "pipefail", "-c",
                "dify_dr() { \"$JAVA\" -XX:TieredStopAtLevel=1 -cp \"$CP\" dev.difydr.Main \"$@\"; }\n" + script, "sh"));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(tmp, "out", "");
        Path err = Files.createTempFile(tmp, "err", "");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(pg.clientEnv());
        pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        pb.environment().put("CP", System.getProperty("java.class.path"));
        try {
            int code = pb.start().waitFor();
            return new Exit(code, Files.readString(out), Files.readString(err));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
