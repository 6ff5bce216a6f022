package dev.difydr.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Dify database server as a restore finds it: PostgreSQL with Dify's real schema in {@code dify} and
 * {@code dify_plugin}, Dify's own login role {@code dify}, and one backup of both in a file:// repository. The
 * dumps of the databases as backed up are kept to compare restored copies with.
 */
public final class DifyTestbed implements AutoCloseable {
    public static final List<String> DATABASES = List.of("dify", "dify_plugin");
    /** The password both rendered charts give Dify's database user. */
    public static final String DIFY_PASSWORD = "example-db-password";
    private static final ObjectMapper JSON = new ObjectMapper();

    public final PostgresServer pg;
    public final Path dir;
    public final Path repository;
    public final String backupId;
    public final Map<String, String> backedUpDumps = new LinkedHashMap<>();

    private DifyTestbed(PostgresServer pg, Path dir) throws IOException {
        this.pg = pg;
        this.dir = dir;
        this.repository = dir.resolve("repo");
        pg.loadDifyFixtures();
        pg.psql("postgres", "-c", "CREATE ROLE dify LOGIN PASSWORD '" + DIFY_PASSWORD + "'");
        for (String db : DATABASES) {
            backedUpDumps.put(db, pg.comparableDump(db));
        }
        Files.writeString(dir.resolve("pg-password"), pg.password() + "\n");
        Path config = config("backup", "");
        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");
        assertThat(run.code()).as("backup: %s%s", run.out(), run.err()).isZero();
        this.backupId = JSON.readTree(run.out()).get("id").asText();
    }

    public static DifyTestbed start(Path dir) {
        PostgresServer pg = PostgresServer.start();
        try {
            return new DifyTestbed(pg, dir);
        } catch (IOException | RuntimeException e) {
            pg.close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /** A configuration file for this server and repository, with {@code extra} YAML sections appended. */
    public Path config(String name, String extra) {
        return config(name, "", extra);
    }

    /** As {@link #config(String, String)}, with {@code restore} lines (indented by two) added to the restore section. */
    public Path config(String name, String restore, String extra) {
        Path file = dir.resolve(name + ".yaml");
        try {
            Files.writeString(file, """
                    deployment: dify
                    repository:
                      url: %s
                    """.formatted(repository.toUri()) + pg.postgresYaml(dir.resolve("pg-password")) + """
                    restore:
                      journalDir: %s
                      jobs: 2
                    """.formatted(dir.resolve("state")) + restore + extra);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    public List<String> databases() {
        return List.of(pg.psql("postgres", "-At", "-c", "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1").strip().split("\n"));
    }

    /** Drops every database a restore or drill made, so that the next test starts from the backed-up server. */
    public void dropCopies() {
        for (String db : databases()) {
            if (db.contains("_restore_") || db.contains("_drill_") || db.startsWith("taken")) {
                pg.psql("postgres", "-c", "DROP DATABASE \"" + db + "\" WITH (FORCE)");
            }
        }
    }

    @Override
    public void close() {
        pg.close();
    }

    public static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
