package dev.difydr.backup;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.repository.BackupId;
import dev.difydr.testsupport.Commands;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.PostgresServer;
import dev.difydr.testsupport.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup taken through the command line restores, with nothing but {@code zstd} and {@code pg_restore}, into
 * databases whose dumps equal the source's, from a file:// and from an s3:// repository.
 */
class BackupRoundTripIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DATABASES = List.of("dify", "dify_plugin");

    private static PostgresServer pg;
    private static S3ProxyServer s3;
    private static Map<String, String> sourceDumps;
    private static int restores;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws IOException {
        pg = PostgresServer.start();
        s3 = S3ProxyServer.start();
        pg.loadDifyFixtures();
        sourceDumps = new LinkedHashMap<>();
        for (String db : DATABASES) {
            sourceDumps.put(db, pg.comparableDump(db));
        }
        Files.writeString(tmp.resolve("pg-password"), pg.password() + "\n");
        Files.writeString(tmp.resolve("s3-secret"), s3.secretKey() + "\n");
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (pg != null) {
            pg.close();
        }
    }


    @Test
    void fileRepository() throws Exception {
        Path root = tmp.resolve("file-repo");
        Path config = writeConfig("file-test", """
                repository:
                  url: %s
                """.formatted(root.toUri()));

        JsonNode first = backup(config);
        waitForNextSecond(first.get("id").asText());
        JsonNode backup = backup(config);

        checkArtifacts(backup, "file-test", (artifact, local) -> copy(root.resolve(artifact.get("path").asText()), local));
        checkListing(config, backup, first);
        checkShow(config, backup);
        checkVerify(config, backup);
    }

    @Test
    void s3Repository() throws Exception {
        s3.createBucket("dify-backups");
        Path config = writeConfig("s3-test", """
                repository:
                  url: s3://dify-backups/dr/nightly
                  s3:
                    endpoint: %s
                    accessKeyId: %s
                    secretAccessKey: "${file:%s}"
                    partSizeMiB: 5
                """.formatted(s3.endpoint(), s3.accessKey(), tmp.resolve("s3-secret")));

        JsonNode backup = backup(config);

        checkArtifacts(backup, "s3-test", (artifact, local) -> s3.client().getObject(
                b -> b.bucket("dify-backups").key("dr/nightly/" + artifact.get("path").asText()), local));
        List<String> keys = s3.client().listObjectsV2Paginator(b -> b.bucket("dify-backups")).contents().stream()
                .map(o -> o.key()).sorted().toList();
        String prefix = "dr/nightly/s3-test/backups/" + backup.get("id").asText() + "/";
        assertThat(keys).containsExactly(prefix + "manifest.json", prefix + "postgres/dify.dump.zst", prefix + "postgres/dify_plugin.dump.zst");
        assertThat(s3.client().listMultipartUploads(b -> b.bucket("dify-backups")).uploads()).isEmpty();
        checkListing(config, backup, null);
        checkShow(config, backup);
        checkVerify(config, backup);
    }

    private static Path writeConfig(String deployment, String repository) throws IOException {
        Path file = tmp.resolve(deployment + ".yaml");
        Files.writeString(file, "deployment: " + deployment + "\n" + repository + pg.postgresYaml(tmp.resolve("pg-password")));
        return file;
    }

    private static JsonNode backup(Path config) throws IOException {
        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");
        assertThat(run.code()).as("backup exit code; stdout:%n%s%nstderr:%n%s", run.out(), run.err()).isZero();
        JsonNode result = JSON.readTree(run.out());
        assertThat(result.get("status").asText()).isEqualTo("completed");
        assertThat(result.get("id").asText()).matches("\\d{8}T\\d{6}Z-[a-z0-9]{6}");
        assertThat(result.get("durationSeconds").isNumber()).isTrue();
        assertThat(result.get("durationSeconds").asDouble()).isPositive().isLessThan(120);
        assertThat(result.has("error")).isFalse();
        assertThat(run.out() + run.err()).doesNotContain(pg.password()).doesNotContain(s3.secretKey());
        return result;
    }

    /** Each artifact's stored bytes hash to what the backup printed, and restore with the standard tools alone. */
    private static void checkArtifacts(JsonNode backup, String deployment, BiConsumer<JsonNode, Path> fetch) throws IOException {
        String id = backup.get("id").asText();
        JsonNode artifacts = backup.get("artifacts");
        assertThat(artifacts).hasSize(2);
        List<String> names = new ArrayList<>();
        for (JsonNode a : artifacts) {
            String name = a.get("name").asText();
            names.add(name);
            assertThat(a.get("kind").asText()).isEqualTo("postgres");
            assertThat(a.get("path").asText()).isEqualTo(deployment + "/backups/" + id + "/postgres/" + name + ".dump.zst");
            assertThat(a.get("compression").asText()).isEqualTo("zstd");
            assertThat(a.get("encryption").asText()).isEqualTo("none");

            Path local = tmp.resolve(deployment + "-" + name + ".dump.zst");
            fetch.accept(a, local);
            assertThat(Files.size(local)).isEqualTo(a.get("storedBytes").asLong());
            assertThat(sha256sum(local)).isEqualTo(a.get("sha256").asText());
            assertThat(decompressed(local, "sha256sum").split(" ")[0]).isEqualTo(a.get("plainSha256").asText());
            assertThat(Long.parseLong(decompressed(local, "wc -c").strip())).isEqualTo(a.get("plainBytes").asLong());

            String restored = "restored_" + (++restores) + "_" + name;
            pg.restoreWithStandardTools(local, restored);
            assertThat(pg.comparableDump(restored)).as("dump of %s restored from %s", name, a.get("path").asText())
                    .isEqualTo(sourceDumps.get(name));
        }
        assertThat(names).containsExactlyElementsOf(DATABASES);
    }

    private static void checkListing(Path config, JsonNode backup, JsonNode older) throws IOException {
        CliRun run = CliRun.of("--config", config.toString(), "--json", "list");
        assertThat(run.code()).isZero();
        JsonNode rows = JSON.readTree(run.out()).get("backups");
        assertThat(rows).hasSize(older == null ? 1 : 2);
        JsonNode newest = rows.get(0);
        assertThat(newest.get("id").asText()).isEqualTo(backup.get("id").asText());
        assertThat(newest.get("status").asText()).isEqualTo("completed");
        assertThat(newest.get("components").toString()).isEqualTo("[\"postgres\"]");
        long stored = 0;
        for (JsonNode a : backup.get("artifacts")) {
            stored += a.get("storedBytes").asLong();
        }
        // the listing counts every object of the backup: the artifacts and the manifest
        assertThat(newest.get("storedBytes").asLong()).isGreaterThan(stored).isLessThan(stored + 64 * 1024);
        Instant started = Instant.parse(newest.get("startedAt").asText());
        Instant finished = Instant.parse(newest.get("finishedAt").asText());
        assertThat(finished).isAfterOrEqualTo(started).isBefore(started.plusSeconds(120));
        if (older != null) {
            assertThat(rows.get(1).get("id").asText()).isEqualTo(older.get("id").asText());
            assertThat(Instant.parse(rows.get(1).get("startedAt").asText())).isBefore(started);
        }
    }

    private static void checkShow(Path config, JsonNode backup) throws IOException {
        CliRun run = CliRun.of("--config", config.toString(), "--json", "show", "latest");
        assertThat(run.code()).as(run.err()).isZero();
        JsonNode manifest = JSON.readTree(run.out());
        assertThat(manifest.get("id").asText()).isEqualTo(backup.get("id").asText());
        assertThat(manifest.get("status").asText()).isEqualTo("completed");
        assertThat(manifest.get("artifacts")).isEqualTo(backup.get("artifacts"));

        JsonNode postgres = manifest.get("postgres");
        String serverVersion = pg.psql("postgres", "-tAc", "SHOW server_version").strip();
        assertThat(postgres.get("serverVersion").asText()).isEqualTo(serverVersion).startsWith("15.");
        assertThat(postgres.get("port").asInt()).isEqualTo(pg.port());
        assertThat(postgres.get("pgDumpVersion").asText()).contains("pg_dump").contains("15.");

        Map<String, JsonNode> facts = new LinkedHashMap<>();
        postgres.get("databases").forEach(d -> facts.put(d.get("name").asText(), d));
        assertThat(facts.keySet()).containsExactlyElementsOf(DATABASES);

        JsonNode dify = facts.get("dify");
        assertThat(dify.get("alembicVersion").asText()).isEqualTo("8e5588e6412e");
        assertThat(dify.get("sizeBytes").asLong()).isPositive();
        JsonNode counts = dify.get("rowCounts");
        assertThat(counts.get("messages").asLong()).isEqualTo(720);
        assertThat(counts.get("accounts").asLong()).isEqualTo(5);
        counts.fields().forEachRemaining(c -> assertThat(c.getValue().asLong()).as("row count of %s", c.getKey())
                .isEqualTo(count("dify", c.getKey())));
        assertThat(counts.size()).isGreaterThanOrEqualTo(15);

        JsonNode plugin = facts.get("dify_plugin");
        assertThat(plugin.get("alembicVersion") == null || plugin.get("alembicVersion").isNull()).isTrue();
        assertThat(plugin.get("rowCounts").get("plugins").asLong()).isEqualTo(40);
        assertThat(plugin.get("rowCounts").get("plugin_installations").asLong()).isEqualTo(120);
    }

    private static void checkVerify(Path config, JsonNode backup) throws IOException {
        CliRun run = CliRun.of("--config", config.toString(), "--json", "verify", "latest", "--read-data");
        assertThat(run.code()).as(run.out() + run.err()).isZero();
        JsonNode result = JSON.readTree(run.out());
        assertThat(result.get("id").asText()).isEqualTo(backup.get("id").asText());
        assertThat(result.get("status").asText()).isEqualTo("ok");
        assertThat(result.get("readData").asBoolean()).isTrue();
        assertThat(result.get("artifacts")).hasSize(2).allSatisfy(c -> assertThat(c.get("ok").asBoolean()).isTrue());
    }

    private static long count(String db, String table) {
        return Long.parseLong(pg.psql(db, "-tAc", "SELECT count(*) FROM public.\"" + table + "\"").strip());
    }

    private static String sha256sum(Path file) {
        return Commands.run(List.of("sha256sum", file.toString()), Map.of(), null).split(" ")[0];
    }

    private static String decompressed(Path file, String filter) {
        return Commands.run(List.of("bash", "-o", "pipefail", "-c", "zstd -q -dc \"$1\" | " + filter, "decompress", file.toString()),
                Map.of(), null);
    }

    private static void copy(Path from, Path to) {
        try {
            Files.copy(from, to);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Backup ids have one-second resolution; the next backup must start in a later second to sort after this one. */
    private static void waitForNextSecond(String id) throws InterruptedException {
        Instant idTime = new BackupId(id).time();
        while (!Instant.now().isAfter(idTime.plusSeconds(1))) {
            Thread.sleep(50);
        }
    }


}
