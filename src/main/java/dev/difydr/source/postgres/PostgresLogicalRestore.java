package dev.difydr.source.postgres;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.source.ChildProcess;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restores logical dumps into new databases on one server. It creates databases but never replaces one: a name that
 * exists is refused. With room in the temp directory the dump is decompressed to a private file first, so that
 * {@code pg_restore --jobs} can work in parallel (it needs a seekable archive); otherwise it is streamed into a
 * single {@code pg_restore}. Either way every byte is checked against both SHA-256s of the manifest.
 */
public final class PostgresLogicalRestore {
    private static final Logger log = LoggerFactory.getLogger(PostgresLogicalRestore.class);
    private static final long SPARE_BYTES = 256L << 20;
    private static final String DUPLICATE_DATABASE = "42P04";

    private final PostgresConnector server;

    public PostgresLogicalRestore(PostgresConnector server) {
        this.server = server;
    }

    public String where() {
        return server.where();
    }

    /** Connects to the server and checks {@code pg_restore}; returns "server version; pg_restore version". */
    public String preflight() {
        try (Connection c = server.connect("postgres")) {
            String version = PostgresConnector.serverVersion(c);
            return "PostgreSQL " + version + "; " + server.toolVersion("pg_restore", version);
        } catch (SQLException e) {
            throw server.unreachable("postgres", e);
        }
    }

    public boolean exists(String database) {
        return query("SELECT 1 FROM pg_database WHERE datname = ?", database);
    }

    public boolean roleExists(String role) {
        return query("SELECT 1 FROM pg_roles WHERE rolname = ?", role);
    }

    private boolean query(String sql, String arg) {
        try (Connection c = server.connect("postgres"); var ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw server.unreachable("postgres", e);
        }
    }

    /**
     * Creates an empty database owned by {@code owner}, with {@code marker} as its comment; refuses, never replaces, one
     * that exists. Returns its OID.
     */
    public long create(String database, String owner, String marker) {
        try (Connection c = server.connect("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + quote(database) + " OWNER " + quote(owner) + " TEMPLATE template0");
            s.execute("COMMENT ON DATABASE " + quote(database) + " IS '" + marker.replace("'", "''") + "'");
            return identity(c, database).oid();
        } catch (SQLException e) {
            if (DUPLICATE_DATABASE.equals(e.getSQLState())) {
                throw new DrException(Failure.USAGE, "database '" + database + "' was created by someone else on PostgreSQL " + where()
                        + " just now; dify-dr never restores over an existing database", e);
            }
            throw new DrException(Failure.SOURCE, "cannot create database '" + database + "' on PostgreSQL " + where() + ": " + e.getMessage(), e);
        }
    }

    private record Identity(long oid, String comment) {
    }

    private static Identity identity(Connection c, String database) throws SQLException {
        try (var ps = c.prepareStatement("SELECT oid, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = ?")) {
            ps.setString(1, database);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Identity(rs.getLong(1), rs.getString(2)) : null;
            }
        }
    }

    /** No relation, function or type outside the system schemas: what CREATE DATABASE … TEMPLATE template0 makes. */
    private boolean holdsNothing(String database) throws SQLException {
        String user = " n ON n.oid = %s WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%%'";
        try (Connection c = server.connect(database); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM pg_class x JOIN pg_namespace" + user.formatted("x.relnamespace")
                     + ") + (SELECT count(*) FROM pg_proc x JOIN pg_namespace" + user.formatted("x.pronamespace")
                     + ") + (SELECT count(*) FROM pg_type x JOIN pg_namespace" + user.formatted("x.typnamespace") + ")")) {
            return rs.next() && rs.getLong(1) == 0;
        }
    }

    /**
     * Drops a database that dify-dr created itself: one whose comment is {@code marker} and, when {@code oid} is known,
     * whose OID is {@code oid}; or one with no comment that holds nothing at all (a run killed between its CREATE
     * DATABASE and its COMMENT left it, and dropping it loses nothing). Anything else is refused: what a journal says
     * is no proof, since a journal can be edited where it is stored. A database that does not exist is nothing to do.
     */
    public void dropOwn(String database, String marker, Long oid) {
        try (Connection c = server.connect("postgres"); Statement s = c.createStatement()) {
            Identity found = identity(c, database);
            if (found == null) {
                return;
            }
            boolean ours = marker.equals(found.comment()) && (oid == null || oid == found.oid());
            if (!ours && !(found.comment() == null && oid == null && holdsNothing(database))) {
                throw new DrException(Failure.USAGE, "database '" + database + "' on PostgreSQL " + where() + " was not created by this run"
                        + " of dify-dr (" + (marker.equals(found.comment()) ? "its OID is " + found.oid() + ", not " + oid
                        : "its comment is not '" + marker + "'") + "), so it is not dropped; if it is an unfinished copy you want gone,"
                        + " drop it yourself (DROP DATABASE " + quote(database) + ") and run again");
            }
            s.execute("DROP DATABASE IF EXISTS " + quote(database) + " WITH (FORCE)");
        } catch (SQLException e) {
            throw new DrException(Failure.SOURCE, "cannot drop database '" + database + "' on PostgreSQL " + where() + ": " + e.getMessage(), e);
        }
    }

    public DatabaseFacts facts(String database) {
        try (Connection c = server.connect(database)) {
            return DifyFacts.read(c, database);
        } catch (SQLException e) {
            throw server.unreachable(database, e);
        }
    }

    /** The {@code alembic_version} of a database (Dify's schema revision), or null when it has none. */
    public String alembicVersion(String database) {
        try (Connection c = server.connect(database); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT CASE WHEN to_regclass('public.alembic_version') IS NULL THEN NULL"
                     + " ELSE (SELECT string_agg(version_num, ',' ORDER BY version_num) FROM public.alembic_version) END")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw server.unreachable(database, e);
        }
    }

    /** How a dump was restored: in parallel from a temp file, or streamed. */
    public record Restored(String method, int jobs) {
    }

    /**
     * Restores one artifact into {@code database} (which must exist and be empty), as {@code owner}: every object is
     * created by that role, so Dify's user owns what it will use whatever roles owned the source.
     */
    public Restored restore(String database, String owner, ArtifactReader reader, String backupId, Artifact artifact, int jobs, Path tempDir,
                            Progress progress) {
        List<String> args = new ArrayList<>(List.of("--exit-on-error", "--no-owner", "--role=" + owner, "--dbname=" + database));
        Path file = jobs > 1 ? tempFile(tempDir, database, artifact.plainBytes()) : null;
        String what = "pg_restore into database '" + database + "' on " + where();
        try {
            if (file != null) {
                long start = System.nanoTime();
                try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
                    reader.reread(backupId, artifact, out, progress, false).requireMatches(artifact);
                }
                log.info("{} decompressed into {} in {} s; pg_restore --jobs={} into '{}'", artifact.path(), file,
                        String.format("%.1f", (System.nanoTime() - start) / 1e9), jobs, database);
                args.add(0, "--jobs=" + jobs);
                args.add(file.toString());
                try (ChildProcess child = server.start(what, "pg_restore", args)) {
                    child.finish();
                }
                return new Restored("parallel from a temp file", jobs);
            }
            try (ChildProcess child = server.startReading(what, "pg_restore", args)) {
                ArtifactReader.Reread reread;
                try (OutputStream in = child.stdin()) {
                    reread = reader.reread(backupId, artifact, in, progress, false);
                } catch (IOException e) {
                    child.finish();
                    throw e;
                }
                child.finish();
                reread.requireMatches(artifact);
            }
            return new Restored("streamed", 1);
        } catch (IOException e) {
            throw new DrException(Failure.STORE, "cannot restore " + artifact.path() + " into database '" + database + "': " + e.getMessage(), e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    log.warn("cannot remove temp file {}: {}", file, e.getMessage());
                }
            }
        }
    }

    /**
     * A private temp file when the directory has room for the plain dump and some to spare; null otherwise. A file
     * named for the same database is what an earlier attempt of this run left when it was killed (each run names the
     * databases it creates for itself, and a second run never restores into an existing one): it is removed first.
     */
    private static Path tempFile(Path dir, String database, long plainBytes) {
        String prefix = "dify-dr-" + database + "-";
        try (Stream<Path> files = Files.list(dir)) {
            for (Path left : files.filter(f -> f.getFileName().toString().startsWith(prefix) && f.getFileName().toString().endsWith(".dump")).toList()) {
                Files.deleteIfExists(left);
                log.info("removed {}, left by an earlier attempt of this restore", left);
            }
        } catch (IOException | UncheckedIOException e) {
            log.warn("cannot look for temp files left by an earlier attempt in {}: {}", dir, e.getMessage());
        }
        try {
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < plainBytes + Math.max(SPARE_BYTES, plainBytes / 10)) {
                log.info("{} has {} MiB free, not enough for the {} MiB dump: streaming into one pg_restore worker",
                        dir, free >> 20, plainBytes >> 20);
                return null;
            }
            return Files.createTempFile(dir, prefix, ".dump", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (IOException | UnsupportedOperationException e) {
            log.info("cannot use {} for a temp file ({}): streaming into one pg_restore worker", dir, e.getMessage());
            return null;
        }
    }

    /** Fails when what was re-read from the store is not what the manifest recorded. */
    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
