package dev.difydr.backup;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.Failure;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.PostgresServer;
import dev.difydr.testsupport.S3ProxyServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A backup that fails says what failed and where, exits with the failure's code, never prints a secret, and leaves
 * no manifest: nothing of it is listed as a backup.
 */
class BackupFailureIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PostgresServer pg;

    @TempDir
    static Path tmp;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws IOException {
        pg = PostgresServer.start();
        pg.loadDifyFixtures();
        Files.writeString(tmp.resolve("pg-password"), pg.password() + "\n");
        Files.writeString(tmp.resolve("s3-secret"), S3ProxyServer.SECRET_KEY + "\n");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void wrongPassword() throws IOException {
        String wrong = "wrong-" + UUID.randomUUID();
        Path passwordFile = dir.resolve("wrong-password");
        Files.writeString(passwordFile, wrong + "\n");
        Path config = fileConfig("password: \"${file:" + passwordFile + "}\"\n  databases: [dify, dify_plugin]");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");

        String error = failed(run, Failure.SOURCE);
        assertThat(error).contains("database 'dify'", pg.host() + ":" + pg.port(), "user '" + pg.user() + "'", "authentication failed");
        assertThat(run.everything()).doesNotContain(wrong).doesNotContain(pg.password());
        assertThat(run.logs()).contains("failed");
        assertThat(manifests()).isEmpty();
        assertThat(listing(config, false)).isEmpty();
    }

    @Test
    void missingDatabase() throws IOException {
        Path config = fileConfig("password: \"${file:" + tmp.resolve("pg-password") + "}\"\n  databases: [dify, no_such_db]");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");

        String error = failed(run, Failure.SOURCE);
        assertThat(error).contains("database 'no_such_db' does not exist", pg.host() + ":" + pg.port(),
                "{name: no_such_db, optional: true}");
        assertThat(manifests()).isEmpty();
        assertThat(listing(config, false)).isEmpty();
        // Every database is reached before any is dumped: nothing of the run was stored, not even dify.
        assertThat(listing(config, true)).isEmpty();
        assertThat(Files.exists(dir.resolve("repo").resolve("prod"))).isFalse();
    }

    @Test
    void optionalMissingDatabaseIsSkipped() throws IOException {
        Path config = fileConfig("password: \"${file:" + tmp.resolve("pg-password") + "}\"\n"
                + "  databases: [dify, {name: no_such_db, optional: true}]");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode result = JSON.readTree(run.out());
        assertThat(result.get("status").asText()).isEqualTo("completed");
        assertThat(result.get("artifacts")).hasSize(1);
        assertThat(result.get("artifacts").get(0).get("name").asText()).isEqualTo("dify");
        assertThat(manifests()).hasSize(1);
        JsonNode manifest = JSON.readTree(manifests().get(0).toFile());
        assertThat(manifest.get("id").asText()).isEqualTo(result.get("id").asText());
        assertThat(manifest.get("skipped")).hasSize(1);
        JsonNode skipped = manifest.get("skipped").get(0);
        assertThat(skipped.get("component").asText()).isEqualTo("postgres");
        assertThat(skipped.get("name").asText()).isEqualTo("no_such_db");
        assertThat(skipped.get("reason").asText()).contains("does not exist");
        assertThat(result.get("skipped")).isEqualTo(manifest.get("skipped"));
        assertThat(manifest.get("postgres").get("databases")).hasSize(1);
        assertThat(run.logs()).contains("postgres 'no_such_db' skipped: database does not exist");
    }

    /**
     * pg_dump is replaced by a script that runs the real one, lets half of its output through and then dies by
     * SIGKILL: the stream ends early, as it does when the OOM killer or an operator kills pg_dump.
     */
    @Test
    void pgDumpKilledMidStream() throws IOException {
        Path bin = Files.createDirectory(dir.resolve("bin"));
        Path wrapper = bin.resolve("pg_dump");
        Files.writeString(wrapper, """
                #!/bin/bash
                if [ "$1" = "--version" ]; then exec pg_dump "$@"; fi
                out=$(mktemp)
                pg_dump "$@" > "$out" || exit $?
                head -c $(( $(stat -c %s "$out") / 2 )) "$out"
                rm -f "$out"
                kill -9 $$
                """);
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path config = fileConfig("password: \"${file:" + tmp.resolve("pg-password") + "}\"\n"
                + "  databases: [dify, dify_plugin]\n  binDir: " + bin);

        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");

        String error = failed(run, Failure.SOURCE);
        assertThat(error).contains("pg_dump of database 'dify'", pg.host() + ":" + pg.port(), "was killed by signal 9");
        assertThat(JSON.readTree(run.out()).get("artifacts")).isEmpty();
        assertThat(manifests()).isEmpty();
        assertThat(filesUnder(dir.resolve("repo"))).as("an aborted file upload leaves nothing behind").isEmpty();
        assertThat(listing(config, false)).isEmpty();
        assertThat(listing(config, true)).isEmpty();
    }

    @Test
    void storeUnreachable() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Path config = config("""
                repository:
                  url: s3://dify-backups/dr
                  s3:
                    endpoint: http://127.0.0.1:%d
                    accessKeyId: %s
                    secretAccessKey: "${file:%s}"
                    maxAttempts: 2
                """.formatted(closedPort, S3ProxyServer.ACCESS_KEY, tmp.resolve("s3-secret")),
                "password: \"${file:" + tmp.resolve("pg-password") + "}\"\n  databases: [dify]");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");

        String error = failed(run, Failure.STORE);
        assertThat(error).contains("s3://dify-backups/dr/", "http://127.0.0.1:" + closedPort);
        assertThat(run.everything()).doesNotContain(S3ProxyServer.SECRET_KEY).doesNotContain(pg.password());
    }

    @Test
    void s3RefusesAPartMidUpload() throws IOException {
        pg.createDatabase("bulk");
        // ~22 MB of base64 noise: zstd cannot shrink it below three 5 MiB parts
        pg.psql("bulk", "-c", "CREATE TABLE noise AS SELECT g AS id, encode(decode(md5(random()::text) || md5(random()::text)"
                + " || md5(random()::text) || md5(random()::text), 'hex'), 'base64') AS data FROM generate_series(1, 250000) g");
        try (S3ProxyServer s3 = S3ProxyServer.start()) {
            s3.createBucket("dify-backups");
            Path config = config("""
                    repository:
                      url: s3://dify-backups/dr
                      s3:
                        endpoint: %s
                        accessKeyId: %s
                        secretAccessKey: "${file:%s}"
                        partSizeMiB: 5
                    """.formatted(s3.endpoint(), s3.accessKey(), tmp.resolve("s3-secret")),
                    "password: \"${file:" + tmp.resolve("pg-password") + "}\"\n  databases: [bulk]");
            s3.failPartUploadsAfter(1);

            CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");

            String error = failed(run, Failure.STORE);
            assertThat(error).contains("bulk.dump.zst", "s3://dify-backups/dr/", s3.endpoint().toString(), "part uploads refused by the test");
            assertThat(s3.partUploadsSeen()).isGreaterThanOrEqualTo(2);
            assertThat(run.everything()).doesNotContain(s3.secretKey()).doesNotContain(pg.password());
            List<String> keys = s3.client().listObjectsV2Paginator(b -> b.bucket("dify-backups")).contents().stream()
                    .map(S3Object::key).toList();
            assertThat(keys).as("no object is left: no manifest, no artifact").isEmpty();
            assertThat(s3.client().listMultipartUploads(b -> b.bucket("dify-backups")).uploads())
                    .as("the multipart upload was aborted").isEmpty();
            assertThat(listing(config, true)).isEmpty();
        } finally {
            pg.psql("postgres", "-c", "DROP DATABASE bulk");
        }
    }

    /** The run failed with this class: exit code, and a JSON result saying so; returns the error message. */
    private static String failed(CliRun run, Failure failure) throws IOException {
        assertThat(run.code()).as("exit code; stdout:%n%s%nstderr:%n%s", run.out(), run.logs()).isEqualTo(failure.exitCode());
        JsonNode result = JSON.readTree(run.out());
        assertThat(result.get("status").asText()).isEqualTo("failed");
        assertThat(result.get("id").asText()).matches("\\d{8}T\\d{6}Z-[a-z0-9]{6}");
        assertThat(result.get("error").get("class").asText()).isEqualTo(failure.name().toLowerCase());
        assertThat(result.get("error").get("exitCode").asInt()).isEqualTo(failure.exitCode());
        String error = result.get("error").get("message").asText();
        assertThat(run.logs()).contains(error.lines().findFirst().orElseThrow());
        return error;
    }

    @Test
    void anOptionalComponentThatFailsIsRecordedAsMissingAndTheSetCompletes() throws IOException {
        int closed;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        Path storage = Files.createDirectories(dir.resolve("storage"));
        Files.writeString(storage.resolve("upload.txt"), "an upload");
        Path config = fileConfig("password: \"${file:" + tmp.resolve("pg-password") + "}\"\n"
                + "redis: {host: 127.0.0.1, port: " + closed + ", optional: true, timeoutSeconds: 2}\n"
                + "storage:\n  - {name: app, path: " + storage + "}\n  - {name: plugins, path: " + dir.resolve("absent") + ", optional: true}");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode manifest = JSON.readTree(manifests().get(0).toFile());
        assertThat(manifest.get("artifacts")).extracting(a -> a.get("kind").asText() + ":" + a.get("name").asText())
                .containsExactly("postgres:dify", "postgres:dify_plugin", "storage:app");
        assertThat(manifest.get("skipped")).extracting(s -> s.get("component").asText() + ":" + s.get("name").asText())
                .containsExactly("redis:redis", "storage:plugins");
        assertThat(manifest.get("skipped").get(0).get("reason").asText()).contains("optional and failed", "127.0.0.1:" + closed);
        assertThat(manifest.get("skipped").get(1).get("reason").asText()).contains(dir.resolve("absent").toString());
        assertThat(manifest.get("storage")).hasSize(1);
        assertThat(manifest.has("redis")).isFalse();
    }

    @Test
    void aRequiredComponentThatFailsFailsTheWholeSet() throws IOException {
        Path storage = Files.createDirectories(dir.resolve("storage"));
        Files.writeString(storage.resolve("upload.txt"), "an upload");
        Path config = fileConfig("password: \"${file:" + tmp.resolve("pg-password") + "}\"\n"
                + "storage:\n  - {name: app, path: " + storage + "}\n  - {name: plugins, path: " + dir.resolve("absent") + "}");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");

        assertThat(run.code()).as(run.everything()).isEqualTo(Failure.SOURCE.exitCode());
        assertThat(run.out()).contains(dir.resolve("absent").toString());
        assertThat(manifests()).isEmpty();
        assertThat(listing(config, false)).isEmpty();
    }

    private Path fileConfig(String postgres) throws IOException {
        return config("repository:\n  url: " + dir.resolve("repo").toUri() + "\n", postgres);
    }

    private Path config(String repository, String postgres) throws IOException {
        Path file = dir.resolve("dify-dr.yaml");
        Files.writeString(file, "deployment: prod\n" + repository + """
                postgres:
                  host: %s
                  port: %d
                  user: %s
                  %s
                """.formatted(pg.host(), pg.port(), pg.user(), postgres));
        return file;
    }

    private List<Path> manifests() throws IOException {
        return filesUnder(dir.resolve("repo")).stream().filter(p -> p.getFileName().toString().equals("manifest.json")).toList();
    }

    private static List<Path> filesUnder(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).toList();
        }
    }

    private static JsonNode listing(Path config, boolean all) throws IOException {
        CliRun run = all ? CliRun.of("--config", config.toString(), "--json", "list", "--all") : CliRun.of("--config", config.toString(), "--json", "list");
        assertThat(run.code()).as(run.everything()).isZero();
        return JSON.readTree(run.out()).get("backups");
    }



}
