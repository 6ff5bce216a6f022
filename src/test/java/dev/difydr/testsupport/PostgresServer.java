package dev.difydr.testsupport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A real PostgreSQL 15 server for tests, reachable over TCP with password authentication: a Testcontainers
 * container where a Docker engine answers, the local PostgreSQL binaries otherwise. The client tools used by the
 * helpers here ({@code psql}, {@code pg_dump}) are the local ones in both cases.
 */
public interface PostgresServer extends AutoCloseable {

    String host();

    int port();

    String user();

    String password();

    static PostgresServer start() {
        if (ContainerPostgres.dockerAvailable()) {
            return ContainerPostgres.start();
        }
        return LocalPostgres.start();
    }

    @Override
    void close();

    default Map<String, String> clientEnv() {
        return Map.of("PGHOST", host(), "PGPORT", String.valueOf(port()), "PGUSER", user(), "PGPASSWORD", password());
    }

    /** The {@code postgres} section of a configuration that backs up {@code dify} and {@code dify_plugin} here. */
    default String postgresYaml(Path passwordFile) {
        return """
                postgres:
                  host: %s
                  port: %d
                  user: %s
                  password: "${file:%s}"
                  databases: [dify, dify_plugin]
                """.formatted(host(), port(), user(), passwordFile);
    }

    default void createDatabase(String name) {
        psql("postgres", "-c", "CREATE DATABASE \"" + name + "\"");
    }

    /** Runs psql with ON_ERROR_STOP against a database; returns its stdout. */
    default String psql(String database, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(LocalPostgres.tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database));
        cmd.addAll(List.of(args));
        return Commands.run(cmd, clientEnv(), null);
    }

    default void load(String database, Path sqlFile) {
        psql(database, "-f", sqlFile.toString());
    }

    /** Creates {@code dify} (Dify 0.6.15's real schema, synthetic rows) and {@code dify_plugin} from the fixtures. */
    default void loadDifyFixtures() {
        createDatabase("dify");
        load("dify", Path.of("src/test/resources/fixtures/dify-0.6.15.sql").toAbsolutePath());
        createDatabase("dify_plugin");
        load("dify_plugin", Path.of("src/test/resources/fixtures/dify-plugin.sql").toAbsolutePath());
    }

    /** A plain-format dump without the lines that differ between two dumps of the same data. */
    default String comparableDump(String database) {
        String dump = Commands.run(List.of(LocalPostgres.tool("pg_dump"), "--no-owner", "-d", database), clientEnv(), null);
        StringBuilder sb = new StringBuilder();
        for (String line : dump.split("\n", -1)) {
            if (line.startsWith("--") || line.startsWith("\\restrict ") || line.startsWith("\\unrestrict ")) {
                continue;
            }
            sb.append(line).append('\n');
        }
        return sb.toString();
    }

    /** Restores a zstd-compressed custom-format dump with only the standard tools: {@code zstd -dc | pg_restore}. */
    default void restoreWithStandardTools(Path dumpZst, String database) throws IOException {
        createDatabase(database);
        Commands.run(List.of("bash", "-o", "pipefail", "-c",
                "zstd -q -dc \"$1\" | \"$2\" --exit-on-error --no-owner -d \"$3\"", "restore", dumpZst.toString(),
                LocalPostgres.tool("pg_restore"), database), clientEnv(), null);
    }
}
