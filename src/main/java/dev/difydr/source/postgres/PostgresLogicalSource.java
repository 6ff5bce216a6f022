package dev.difydr.source.postgres;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.DatabaseSpec;
import dev.difydr.config.PostgresConfig;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.source.ChildProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Logical dumps of a PostgreSQL server's databases with {@code pg_dump -Fc -Z0}. Each dump runs in a snapshot
 * exported by a connection of our own, so the facts recorded with it (row counts, {@code alembic_version}) describe
 * exactly the data in the dump, even while Dify keeps writing.
 */
public final class PostgresLogicalSource {
    /** Dify's tables whose exact row counts go into the manifest when they exist (main and plugin databases). */
    public static final List<String> KEY_TABLES = List.of(
            "accounts", "tenants", "tenant_account_joins", "apps", "app_model_configs", "conversations", "messages",
            "message_files", "datasets", "documents", "document_segments", "workflows", "workflow_runs",
            "workflow_node_executions", "upload_files", "end_users", "api_tokens", "providers", "dify_setups",
            "plugins", "plugin_installations", "plugin_declarations", "ai_model_installations", "tool_installations",
            "endpoints");
    private static final Pattern VERSION = Pattern.compile("(\\d+)(?:\\.(\\d+))?");
    private static final String UNDEFINED_DATABASE = "3D000";

    private final PostgresConfig config;

    public PostgresLogicalSource(PostgresConfig config) {
        this.config = config;
    }

    public String where() {
        return config.host() + ":" + config.port();
    }

    private Connection connect(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", config.user());
        p.setProperty("password", config.password().reveal());
        p.setProperty("sslmode", config.sslmode());
        p.setProperty("connectTimeout", "10");
        p.setProperty("ApplicationName", "dify-dr");
        return DriverManager.getConnection("jdbc:postgresql://" + hostForUrl() + ":" + config.port() + "/" + database, p);
    }

    private String hostForUrl() {
        return config.host().contains(":") && !config.host().startsWith("[") ? "[" + config.host() + "]" : config.host();
    }

    /** A SOURCE failure for a database that cannot be reached, saying why in PostgreSQL's words. */
    private DrException unreachable(String database, SQLException e) {
        if (UNDEFINED_DATABASE.equals(e.getSQLState())) {
            return new DrException(Failure.SOURCE, "database '" + database + "' does not exist on PostgreSQL " + where()
                    + " (remove it from postgres.databases, or mark it optional: {name: " + database + ", optional: true})", e);
        }
        return new DrException(Failure.SOURCE, "cannot connect to database '" + database + "' on PostgreSQL " + where()
                + " as user '" + config.user() + "': " + e.getMessage(), e);
    }

    private static boolean isMissingDatabase(SQLException e) {
        return UNDEFINED_DATABASE.equals(e.getSQLState());
    }

    private String serverVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The path of {@code pg_dump}: in {@code postgres.binDir} when set, else the PATH. */
    private String pgDump() {
        return config.binDir() == null ? "pg_dump" : Path.of(config.binDir(), "pg_dump").toString();
    }

    /** {@code pg_dump --version}, checked to be at least the server's major version (older ones refuse to dump). */
    private String pgDumpVersion(String serverVersion) {
        ChildProcess child = ChildProcess.start("pg_dump --version", List.of(pgDump(), "--version"), Map.of());
        String out;
        try {
            out = new String(child.stdout().readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new DrException(Failure.SOURCE, "cannot run " + pgDump() + " --version: " + e.getMessage(), e);
        }
        child.finish();
        Matcher tool = VERSION.matcher(out.replaceAll("^[^0-9]*", ""));
        Matcher server = VERSION.matcher(serverVersion);
        if (tool.lookingAt() && server.lookingAt() && Integer.parseInt(tool.group(1)) < Integer.parseInt(server.group(1))) {
            throw new DrException(Failure.SOURCE, out + " cannot dump PostgreSQL " + serverVersion + " at " + where()
                    + ": install the client tools of version " + server.group(1) + " or newer and set postgres.binDir");
        }
        return out;
    }

    /**
     * Turns an open connection to {@code database} into a repeatable-read transaction and exports its snapshot. The
     * snapshot stays valid, for {@code pg_dump --snapshot} and for {@link Snapshot#facts()}, while it is open; closing
     * it closes the connection.
     */
    private Snapshot snapshot(Connection c, String database) {
        try {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_export_snapshot()")) {
                rs.next();
                return new Snapshot(this, database, c, rs.getString(1));
            }
        } catch (SQLException e) {
            closeQuietly(c);
            throw readFailed(database, e);
        }
    }

    private DrException readFailed(String database, SQLException e) {
        return new DrException(Failure.SOURCE, "cannot read database '" + database + "' on PostgreSQL " + where() + ": " + e.getMessage(), e);
    }

    private DatabaseFacts facts(Connection c, String database) throws SQLException {
        long size;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_database_size(current_database())")) {
            rs.next();
            size = rs.getLong(1);
        }
        List<String> present = new ArrayList<>();
        try (var ps = c.prepareStatement("SELECT t FROM unnest(?::text[]) AS t WHERE to_regclass('public.' || quote_ident(t)) IS NOT NULL")) {
            ps.setArray(1, c.createArrayOf("text", KEY_TABLES.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    present.add(rs.getString(1));
                }
            }
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        String alembic = null;
        try (Statement s = c.createStatement()) {
            for (String table : KEY_TABLES) {
                if (present.contains(table)) {
                    try (ResultSet rs = s.executeQuery("SELECT count(*) FROM public.\"" + table + "\"")) {
                        rs.next();
                        counts.put(table, rs.getLong(1));
                    }
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT to_regclass('public.alembic_version') IS NOT NULL")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    try (ResultSet v = s.executeQuery("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM public.alembic_version")) {
                        v.next();
                        alembic = v.getString(1);
                    }
                }
            }
        }
        return new DatabaseFacts(database, alembic, size, counts);
    }

    /** Starts {@code pg_dump -Fc -Z0} of a database in the given snapshot; the password goes through the environment. */
    public ChildProcess dump(String database, String snapshotId) {
        List<String> cmd = List.of(pgDump(), "--format=custom", "--compress=0", "--no-password",
                "--snapshot=" + snapshotId, "--host=" + config.host(), "--port=" + config.port(),
                "--username=" + config.user(), "--dbname=" + database);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGPASSWORD", config.password().reveal());
        env.put("PGSSLMODE", config.sslmode());
        env.put("PGAPPNAME", "dify-dr");
        env.put("PGCONNECT_TIMEOUT", "10");
        return ChildProcess.start("pg_dump of database '" + database + "' on " + where(), cmd, env);
    }

    /**
     * Connects to every configured database before anything is dumped, so that a wrong password, a missing database
     * or an unusable {@code pg_dump} fails the run before it stores anything. Optional databases that do not exist
     * are reported, not fatal. The connections stay open for the dumps' snapshots.
     */
    public Preflight preflight() {
        String serverVersion = null;
        Map<String, Connection> open = new LinkedHashMap<>();
        List<String> missingOptional = new ArrayList<>();
        try {
            for (DatabaseSpec db : config.databases()) {
                try {
                    Connection c = connect(db.name());
                    open.put(db.name(), c);
                    if (serverVersion == null) {
                        serverVersion = serverVersion(c);
                    }
                } catch (SQLException e) {
                    if (db.optional() && isMissingDatabase(e)) {
                        missingOptional.add(db.name());
                    } else {
                        throw unreachable(db.name(), e);
                    }
                }
            }
            if (open.isEmpty()) {
                throw new DrException(Failure.SOURCE, "none of the configured databases " + missingOptional + " exists on PostgreSQL " + where());
            }
            return new Preflight(serverVersion, pgDumpVersion(serverVersion), open, List.copyOf(missingOptional));
        } catch (RuntimeException e) {
            open.values().forEach(PostgresLogicalSource::closeQuietly);
            throw e;
        }
    }

    /** The outcome of {@link #preflight()}: versions, what exists, and one open connection per existing database. */
    public final class Preflight implements AutoCloseable {
        private final String serverVersion;
        private final String pgDumpVersion;
        private final List<String> databases;
        private final List<String> missingOptional;
        private final Map<String, Connection> connections;

        private Preflight(String serverVersion, String pgDumpVersion, Map<String, Connection> connections, List<String> missingOptional) {
            this.serverVersion = serverVersion;
            this.pgDumpVersion = pgDumpVersion;
            this.databases = List.copyOf(connections.keySet());
            this.missingOptional = missingOptional;
            this.connections = connections;
        }

        public String serverVersion() {
            return serverVersion;
        }

        public String pgDumpVersion() {
            return pgDumpVersion;
        }

        public List<String> databases() {
            return databases;
        }

        public List<String> missingOptional() {
            return missingOptional;
        }

        /** Exports a snapshot on the database's preflight connection, which the snapshot then owns. */
        public Snapshot snapshot(String database) {
            Connection c = connections.remove(database);
            if (c == null) {
                throw new IllegalStateException("no open connection to " + database);
            }
            return PostgresLogicalSource.this.snapshot(c, database);
        }

        @Override
        public void close() {
            connections.values().forEach(PostgresLogicalSource::closeQuietly);
            connections.clear();
        }
    }

    static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing more to release
        }
    }

    /** An open transaction whose snapshot a dump imports; closing it ends the transaction. */
    public record Snapshot(PostgresLogicalSource source, String database, Connection connection, String id) implements AutoCloseable {

        /** Size, {@code alembic_version} and exact row counts of the key tables, as of the snapshot. */
        public DatabaseFacts facts() {
            try {
                return source.facts(connection, database);
            } catch (SQLException e) {
                throw source.readFailed(database, e);
            }
        }

        @Override
        public void close() {
            try {
                connection.rollback();
            } catch (SQLException ignored) {
                // the connection is closed below either way
            }
            closeQuietly(connection);
        }
    }
}
