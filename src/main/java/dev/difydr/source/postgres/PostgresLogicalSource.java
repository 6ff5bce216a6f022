package dev.difydr.source.postgres;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.DatabaseSpec;
import dev.difydr.config.PostgresConfig;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.source.ChildProcess;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Logical dumps of a PostgreSQL server's databases with {@code pg_dump -Fc -Z0}. Each dump runs in a snapshot
 * exported by a connection of our own, so the facts recorded with it (row counts, {@code alembic_version}) describe
 * exactly the data in the dump, even while Dify keeps writing.
 */
public final class PostgresLogicalSource {
    private final PostgresConfig config;
    private final PostgresConnector server;

    public PostgresLogicalSource(PostgresConfig config) {
        this.config = config;
        this.server = new PostgresConnector(config);
    }

    public String where() {
        return server.where();
    }

    /** A SOURCE failure for a database that cannot be reached, with what to do when it is simply missing. */
    private DrException unreachable(String database, SQLException e) {
        DrException failure = server.unreachable(database, e);
        if (PostgresConnector.isMissingDatabase(e)) {
            return new DrException(Failure.SOURCE, failure.getMessage() + " (remove it from postgres.databases, or mark it optional: {name: "
                    + database + ", optional: true})", e);
        }
        return failure;
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
            PostgresConnector.closeQuietly(c);
            throw readFailed(database, e);
        }
    }

    private DrException readFailed(String database, SQLException e) {
        return new DrException(Failure.SOURCE, "cannot read database '" + database + "' on PostgreSQL " + where() + ": " + e.getMessage(), e);
    }

    /** Starts {@code pg_dump -Fc -Z0} of a database in the given snapshot; the password goes through the environment. */
    public ChildProcess dump(String database, String snapshotId) {
        return server.start("pg_dump of database '" + database + "' on " + where(), "pg_dump",
                List.of("--format=custom", "--compress=0", "--snapshot=" + snapshotId, "--dbname=" + database));
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
            for (DatabaseSpec db : config.databases().list()) {
                try {
                    Connection c = server.connect(db.name());
                    open.put(db.name(), c);
                    if (serverVersion == null) {
                        serverVersion = PostgresConnector.serverVersion(c);
                    }
                } catch (SQLException e) {
                    if (db.optional() && PostgresConnector.isMissingDatabase(e)) {
                        missingOptional.add(db.name());
                    } else {
                        throw unreachable(db.name(), e);
                    }
                }
            }
            if (open.isEmpty()) {
                throw new DrException(Failure.SOURCE, "none of the configured databases " + missingOptional + " exists on PostgreSQL " + where());
            }
            return new Preflight(serverVersion, server.toolVersion("pg_dump", serverVersion), open, List.copyOf(missingOptional));
        } catch (RuntimeException e) {
            open.values().forEach(PostgresConnector::closeQuietly);
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
            connections.values().forEach(PostgresConnector::closeQuietly);
            connections.clear();
        }
    }

    /** An open transaction whose snapshot a dump imports; closing it ends the transaction. */
    public record Snapshot(PostgresLogicalSource source, String database, Connection connection, String id) implements AutoCloseable {

        /** Size, {@code alembic_version} and exact row counts of the key tables, as of the snapshot. */
        public DatabaseFacts facts() {
            try {
                return DifyFacts.read(connection, database);
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
            PostgresConnector.closeQuietly(connection);
        }
    }
}
