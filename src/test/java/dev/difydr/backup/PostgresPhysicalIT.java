package dev.difydr.backup;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.Commands;
import dev.difydr.testsupport.LocalPostgres;
import dev.difydr.testsupport.PostgresServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A physical backup taken through the command line, of a cluster holding Dify's databases and a pgbench database,
 * restored with {@code restore --data-directory} into a new directory on which a second PostgreSQL starts and serves
 * dumps equal to the source's. Also: what is refused, and that a failing pg_basebackup leaves no backup.
 */
class PostgresPhysicalIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DATABASES = List.of("dify", "dify_plugin", "bench");
    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private static PostgresServer pg;
    private static Map<String, String> sourceDumps;
    /** Readable by the postgres user, unlike JUnit's temp dirs, since a restored server runs from here. */
    private static Path tmp;
    private static Path repository;

    @BeforeAll
    static void start() throws IOException {
        tmp = Files.createTempDirectory("dify-dr-physical-it-");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        pg = PostgresServer.start();
        pg.loadDifyFixtures();
        pg.createDatabase("bench");
        Commands.run(List.of(LocalPostgres.tool("pgbench"), "-i", "-s", "5", "-q", "bench"), pg.clientEnv(), null);
        sourceDumps = new LinkedHashMap<>();
        for (String db : DATABASES) {
            sourceDumps.put(db, pg.comparableDump(db));
        }
        Files.writeString(tmp.resolve("pg-password"), pg.password() + "\n");
        repository = tmp.resolve("repo");
    }

    @AfterAll
    static void stop() throws IOException {
        if (pg != null) {
            pg.close();
        }
        deleteTree(tmp);
    }

    @Test
    void backupRestoresIntoANewDataDirectoryThatServesTheSameData() throws Exception {
        Path config = writeConfig("physical", "  mode: physical\n");

        CliRun backup = CliRun.of("--config", config.toString(), "--json", "backup");

        assertThat(backup.code()).as("backup: %s%n%s", backup.out(), backup.err()).isZero();
        JsonNode result = JSON.readTree(backup.out());
        String id = result.get("id").asText();
        assertThat(result.get("artifacts")).hasSize(1);
        JsonNode base = result.get("artifacts").get(0);
        assertThat(base.get("path").asText()).isEqualTo("physical/backups/" + id + "/postgres/base.tar.zst");
        assertThat(backup.everything()).doesNotContain(pg.password());

        Path stored = repository.resolve(base.get("path").asText());
        String listing = Commands.run(List.of("bash", "-o", "pipefail", "-c", "zstd -q -dc \"$1\" | tar -t", "list", stored.toString()), Map.of(), null);
        assertThat(listing.lines().toList()).startsWith("backup_label")
                .contains("PG_VERSION", "global/pg_control", "backup_manifest", "postgresql.conf")
                .anyMatch(name -> name.matches("pg_wal/[0-9A-F]{24}"));

        CliRun show = CliRun.of("--config", config.toString(), "--json", "show", id);
        assertThat(show.code()).as(show.err()).isZero();
        JsonNode facts = JSON.readTree(show.out()).get("postgres");
        assertThat(facts.get("physical").get("walMethod").asText()).isEqualTo("fetch");
        assertThat(facts.get("physical").get("checkpoint").asText()).isEqualTo("fast");
        assertThat(facts.get("physical").get("label").asText()).isEqualTo("dify-dr-" + id);
        assertThat(facts.get("physical").get("startLsn").asText()).matches("[0-9A-F]+/[0-9A-F]+");
        assertThat(facts.get("physical").get("timeline").asInt()).isEqualTo(1);
        assertThat(facts.get("physical").get("databasesBytes").asLong()).isGreaterThan(50L << 20);
        assertThat(facts.get("physical").get("databaseFactsNote").asText()).contains("approximate");
        assertThat(facts.get("databases").findValuesAsText("name")).containsExactly("dify", "dify_plugin");
        assertThat(facts.get("databases").get(0).get("rowCounts").get("accounts").asLong()).isPositive();

        Path dataDirectory = tmp.resolve("restored-data");
        CliRun restore = CliRun.of("--config", config.toString(), "restore", id, "--data-directory", dataDirectory.toString());

        assertThat(restore.code()).as("restore: %s%n%s", restore.out(), restore.err()).isZero();
        assertThat(restore.out()).contains("restored into " + dataDirectory).contains("chown -R postgres:postgres").contains("pg_ctl -D");
        assertThat(Files.getPosixFilePermissions(dataDirectory)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(dataDirectory.resolve("PG_VERSION")).hasContent("15");
        try (RestoredCluster restored = RestoredCluster.start(dataDirectory, pg.password())) {
            for (String db : DATABASES) {
                assertThat(restored.comparableDump(db)).as("dump of %s", db).isEqualTo(sourceDumps.get(db));
            }
        }
    }

    @Test
    void restoreRefusesANonEmptyDirectory() throws Exception {
        Path config = writeConfig("physical-nonempty", "  mode: physical\n");
        String id = backupId(CliRun.of("--config", config.toString(), "--json", "backup"));
        Path occupied = tmp.resolve("occupied");
        Files.createDirectories(occupied);
        Files.writeString(occupied.resolve("notes.txt"), "the operator's\n");

        CliRun restore = CliRun.of("--config", config.toString(), "restore", id, "--data-directory", occupied.toString());

        assertThat(restore.code()).isEqualTo(2);
        assertThat(restore.out() + restore.err()).contains(occupied + " is not empty").contains("never writes over existing files");
        try (Stream<Path> entries = Files.list(occupied)) {
            assertThat(entries).containsExactly(occupied.resolve("notes.txt"));
        }
        assertThat(occupied.resolve("notes.txt")).hasContent("the operator's");
    }

    @Test
    void dataDirectoryIsRefusedForALogicalBackup() throws Exception {
        Path config = writeConfig("logical-for-physical", "");
        String id = backupId(CliRun.of("--config", config.toString(), "--json", "backup"));
        Path target = tmp.resolve("never-created");

        CliRun restore = CliRun.of("--config", config.toString(), "restore", id, "--data-directory", target.toString());

        assertThat(restore.code()).isEqualTo(2);
        assertThat(restore.out() + restore.err()).contains("backup " + id + " is not a physical backup").contains("pg_dump archives");
        assertThat(target).doesNotExist();
    }

    @Test
    void failingPgBasebackupLeavesNoBackupAndQuotesItsError() throws Exception {
        String password = "blocked-secret-7f3a";
        pg.psql("postgres", "-c", "CREATE ROLE blocked LOGIN REPLICATION PASSWORD '" + password + "'",
                "-c", "GRANT CONNECT ON DATABASE dify TO blocked");
        // Only replication connections of this user are rejected, so the preflight passes and pg_basebackup fails.
        String hba = pg.psql("postgres", "-At", "-c", "SHOW hba_file").strip();
        pg.psql("postgres", "-c", "COPY (SELECT unnest(ARRAY['local all all trust', 'host replication blocked 127.0.0.1/32 reject',"
                + " 'host all all 127.0.0.1/32 scram-sha-256', 'host replication all 127.0.0.1/32 scram-sha-256'])) TO '" + hba + "'",
                "-c", "SELECT pg_reload_conf()");
        Path config = physicalConfigAs("blocked", password);

        CliRun backup = CliRun.of("--config", config.toString(), "backup");

        assertThat(backup.code()).as("%s%n%s", backup.out(), backup.err()).isEqualTo(4);
        assertThat(backup.out() + backup.err()).contains("pg_basebackup of " + pg.host() + ":" + pg.port() + " exited with code 1")
                .contains("pg_hba.conf rejects replication connection");
        assertThat(backup.everything()).doesNotContain(password);
        assertThat(manifests("blocked")).isEmpty();
    }

    @Test
    void userWithoutReplicationIsRefusedBeforeAnythingIsStored() throws Exception {
        String password = "plain-secret-91c2";
        pg.psql("postgres", "-c", "CREATE ROLE plain LOGIN PASSWORD '" + password + "'");
        Path config = physicalConfigAs("plain", password);

        CliRun backup = CliRun.of("--config", config.toString(), "backup");

        assertThat(backup.code()).isEqualTo(4);
        assertThat(backup.out() + backup.err()).contains("user 'plain' has neither REPLICATION nor SUPERUSER");
        assertThat(backup.everything()).doesNotContain(password);
        assertThat(repository.resolve("plain")).doesNotExist();
    }

    @Test
    void clusterWithAnExtraTablespaceIsRefused() throws Exception {
        Path location = tmp.resolve("tablespace");
        Files.createDirectories(location);
        if (ROOT) {
            Commands.run(List.of("chown", "postgres:postgres", location.toString()), Map.of(), null);
        }
        pg.psql("postgres", "-c", "CREATE TABLESPACE extra LOCATION '" + location + "'");
        try {
            Path config = writeConfig("physical-tablespace", "  mode: physical\n");

            CliRun backup = CliRun.of("--config", config.toString(), "backup");

            assertThat(backup.code()).isEqualTo(4);
            assertThat(backup.out() + backup.err()).contains("tablespaces beyond pg_default and pg_global").contains("extra at " + location)
                    .contains("use postgres.mode logical");
            assertThat(manifests("physical-tablespace")).isEmpty();
        } finally {
            pg.psql("postgres", "-c", "DROP TABLESPACE extra");
        }
    }

    private static Path writeConfig(String deployment, String postgresExtra) throws IOException {
        Path file = tmp.resolve(deployment + ".yaml");
        Files.writeString(file, "deployment: " + deployment + "\nrepository:\n  url: " + repository.toUri() + "\n"
                + pg.postgresYaml(tmp.resolve("pg-password")).replace("databases: [dify, dify_plugin]\n", "databases: [dify, dify_plugin]\n" + postgresExtra));
        return file;
    }

    /** A physical-mode configuration of its own deployment, logging in as {@code user}. */
    private static Path physicalConfigAs(String user, String password) throws IOException {
        Path passwordFile = tmp.resolve(user + "-password");
        Files.writeString(passwordFile, password + "\n");
        Path config = tmp.resolve(user + ".yaml");
        Files.writeString(config, """
                deployment: %s
                repository:
                  url: %s
                postgres:
                  host: %s
                  port: %d
                  user: %s
                  password: "${file:%s}"
                  databases: [dify]
                  mode: physical
                """.formatted(user, repository.toUri(), pg.host(), pg.port(), user, passwordFile));
        return config;
    }

    private static String backupId(CliRun run) throws IOException {
        assertThat(run.code()).as("backup: %s%n%s", run.out(), run.err()).isZero();
        return JSON.readTree(run.out()).get("id").asText();
    }

    private static List<Path> manifests(String deployment) throws IOException {
        Path backups = repository.resolve(deployment);
        if (!Files.exists(backups)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(backups)) {
            return walk.filter(p -> p.getFileName().toString().equals("manifest.json")).toList();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A PostgreSQL started on a restored data directory, as the postgres user when the tests run as root. */
    private record RestoredCluster(Path data, int port, String password) implements PostgresServer {

        static RestoredCluster start(Path data, String password) throws IOException {
            Path runtime = Files.createDirectories(data.resolveSibling(data.getFileName() + "-run"));
            if (ROOT) {
                Commands.run(List.of("chown", "-R", "postgres:postgres", data.toString(), runtime.toString()), Map.of(), null);
            }
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Commands.run(asServerUser(List.of(LocalPostgres.tool("pg_ctl"), "-D", data.toString(), "-l", runtime.resolve("server.log").toString(),
                    "-o", "-p " + port + " -k " + runtime + " -c listen_addresses=127.0.0.1", "-w", "-t", "120", "start")), Map.of(), null);
            return new RestoredCluster(data, port, password);
        }

        private static List<String> asServerUser(List<String> cmd) {
            if (!ROOT) {
                return cmd;
            }
            List<String> out = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
            out.addAll(cmd);
            return out;
        }

        @Override
        public String host() {
            return "127.0.0.1";
        }

        @Override
        public String user() {
            return "postgres";
        }

        @Override
        public void close() {
            Commands.run(asServerUser(List.of(LocalPostgres.tool("pg_ctl"), "-D", data.toString(), "-m", "fast", "-w", "stop")), Map.of(), null);
        }
    }
}
