package dev.difydr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.Failure;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.PostgresServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's contract: {@code config check}, exit codes, help. */
class CliIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PostgresServer pg;

    @TempDir
    static Path tmp;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws IOException {
        pg = PostgresServer.start();
        pg.createDatabase("dify");
        Files.writeString(tmp.resolve("pg-password"), pg.password() + "\n");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void configCheckReachesEveryEndpoint() throws IOException {
        Path repo = dir.resolve("repo");
        Path config = config(repo.toUri().toString(), "", pg.port(), "retention: {keepLast: 3}\n");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "config", "check");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode report = JSON.readTree(run.out());
        assertThat(report.get("status").asText()).isEqualTo("ok");
        Map<String, JsonNode> checks = checks(report);
        assertThat(checks.keySet()).containsExactly("configuration", "postgres", "repository", "retention");
        assertThat(checks.values()).allSatisfy(c -> assertThat(c.get("ok").asBoolean()).as(c.toString()).isTrue());
        String serverVersion = pg.psql("postgres", "-tAc", "SHOW server_version").strip();
        assertThat(checks.get("postgres").get("detail").asText())
                .contains("PostgreSQL " + serverVersion, pg.host() + ":" + pg.port(), "'dify'");
        assertThat(checks.get("repository").get("detail").asText()).contains("file://" + repo).contains("reachable");
        assertThat(checks.get("retention").get("detail").asText()).isEqualTo("keep 3 last; buckets in UTC; runs that never completed are deleted after 24h");
        assertThat(Files.isDirectory(repo)).isTrue();
        assertThat(run.everything()).doesNotContain(pg.password());

        CliRun text = CliRun.of("--config", config.toString(), "config", "check");
        assertThat(text.code()).isZero();
        assertThat(text.out()).containsPattern("(?m)^ok +postgres +PostgreSQL").doesNotContain("FAILED");
        assertThat(text.everything()).doesNotContain(pg.password());
    }

    @Test
    void configCheckNamesTheUnreachablePostgres() throws IOException {
        int closed = closedPort();
        Path config = config(dir.resolve("repo").toUri().toString(), "", closed, "");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "config", "check");

        assertThat(run.code()).as(run.everything()).isEqualTo(Failure.SOURCE.exitCode());
        JsonNode report = JSON.readTree(run.out());
        assertThat(report.get("status").asText()).isEqualTo("failed");
        Map<String, JsonNode> checks = checks(report);
        assertThat(checks.get("postgres").get("ok").asBoolean()).isFalse();
        assertThat(checks.get("postgres").get("detail").asText()).contains("'dify'", pg.host() + ":" + closed);
        assertThat(checks.get("configuration").get("ok").asBoolean()).isTrue();
        assertThat(checks.get("repository").get("ok").asBoolean()).isTrue();
        assertThat(run.everything()).doesNotContain(pg.password());
    }

    @Test
    void configCheckNamesTheUnreachableStore() throws IOException {
        int closed = closedPort();
        Path secret = dir.resolve("s3-secret");
        Files.writeString(secret, "s3-secret-value-9d1e\n");
        Path config = config("s3://dify-backups/dr", """
                  s3:
                    endpoint: http://127.0.0.1:%d
                    accessKeyId: test-access
                    secretAccessKey: "${file:%s}"
                    maxAttempts: 1
                """.formatted(closed, secret), pg.port(), "");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "config", "check");

        assertThat(run.code()).as(run.everything()).isEqualTo(Failure.STORE.exitCode());
        Map<String, JsonNode> checks = checks(JSON.readTree(run.out()));
        assertThat(checks.get("postgres").get("ok").asBoolean()).isTrue();
        assertThat(checks.get("repository").get("ok").asBoolean()).isFalse();
        assertThat(checks.get("repository").get("detail").asText()).contains("s3://dify-backups/dr", "127.0.0.1:" + closed);
        assertThat(run.everything()).doesNotContain("s3-secret-value-9d1e").doesNotContain(pg.password());
    }

    @Test
    void invalidConfigurationIsAConfigFailure() throws IOException {
        Path config = dir.resolve("dify-dr.yaml");
        Files.writeString(config, "repository: {url: 'file:///var/backups/dify'}\npostgress: {host: db}\n");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "config", "check");

        assertThat(run.code()).isEqualTo(Failure.CONFIG.exitCode());
        JsonNode error = JSON.readTree(run.out()).get("error");
        assertThat(error.get("class").asText()).isEqualTo("config");
        assertThat(error.get("exitCode").asInt()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(error.get("message").asText()).contains("postgress: unknown key; did you mean 'postgres'?");
        assertThat(run.err()).contains("error: ").contains("postgress");

        CliRun missing = CliRun.of("--config", dir.resolve("absent.yaml").toString(), "list");
        assertThat(missing.code()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(missing.err()).contains("absent.yaml not found");
    }

    @Test
    void helpListsTheCommandsAndTheExitCodes() {
        CliRun run = CliRun.of("--help");

        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("Exit codes:").containsPattern("(?m)^ +0 +success$");
        for (Failure f : Failure.values()) {
            assertThat(run.out()).containsPattern("(?m)^ +" + f.exitCode() + " +" + java.util.regex.Pattern.quote(f.meaning()) + "$");
        }
        assertThat(run.out()).contains("backup", "list", "show", "verify", "config", "--config", "--json");
    }

    @Test
    void unknownSubcommandIsAUsageError() {
        CliRun run = CliRun.of("frobnicate");

        assertThat(run.code()).isEqualTo(Failure.USAGE.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("frobnicate");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void unknownOptionIsAUsageError() {
        CliRun run = CliRun.of("verify", "latest", "--read-dta");

        assertThat(run.code()).isEqualTo(Failure.USAGE.exitCode());
        assertThat(run.err()).contains("--read-dta").contains("verify --help");
    }

    private static Map<String, JsonNode> checks(JsonNode report) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        report.get("checks").forEach(c -> out.put(c.get("name").asText(), c));
        return out;
    }

    private Path config(String url, String s3, int port, String extra) throws IOException {
        Path file = dir.resolve("dify-dr.yaml");
        Files.writeString(file, """
                repository:
                  url: %s
                %spostgres:
                  host: %s
                  port: %d
                  user: %s
                  password: "${file:%s}"
                  databases: [dify]
                %s""".formatted(url, s3, pg.host(), port, pg.user(), tmp.resolve("pg-password"), extra));
        return file;
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }



}
