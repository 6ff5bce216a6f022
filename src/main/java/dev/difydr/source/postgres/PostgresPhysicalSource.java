package dev.difydr.source.postgres;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.DatabaseSpec;
import dev.difydr.config.PostgresConfig;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.repository.PostgresFacts;
import dev.difydr.source.ChildProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A physical copy of a whole PostgreSQL cluster with {@code pg_basebackup -Ft -D -}: one tar on stdout holding the
 * data directory, the WAL needed to make it consistent ({@code --wal-method=fetch}) and pg_basebackup's
 * {@code backup_manifest}. Clusters with extra tablespaces are refused: pg_basebackup writes those only as separate
 * files into an empty directory of its own, which would mean spooling the backup to local disk.
 */
public final class PostgresPhysicalSource {
    private static final Pattern MAJOR = Pattern.compile("(\\d+)");
    private static final Pattern START_LSN = Pattern.compile("(?m)^START WAL LOCATION: ([0-9A-F]+/[0-9A-F]+)");
    private static final Pattern START_TIMELINE = Pattern.compile("(?m)^START TIMELINE: (\\d+)");
    private static final int TAR_BLOCK = 512;

    private final PostgresConfig config;
    private final PostgresConnector server;

    public PostgresPhysicalSource(PostgresConfig config) {
        this.config = config;
        this.server = new PostgresConnector(config);
    }

    public String where() {
        return server.where();
    }

    /** What the preflight found: versions, the size of the databases and the tablespaces beyond the two built-in ones. */
    public record Preflight(String serverVersion, String pgBasebackupVersion, long databasesBytes, List<PostgresFacts.Tablespace> tablespaces) {
    }

    /**
     * Proves that {@code pg_basebackup} can copy this server before anything is stored: the user may replicate, the
     * server has WAL senders and keeps enough WAL for a backup, pg_basebackup has the server's major version (it
     * refuses any other) and there is no extra tablespace.
     */
    public Preflight preflight() {
        String database = config.databases().list().stream().map(DatabaseSpec::name).findFirst().orElse("postgres");
        try (Connection c = server.connect(database); Statement s = c.createStatement()) {
            String version = PostgresConnector.serverVersion(c);
            List<String> problems = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user")) {
                if (rs.next() && !rs.getBoolean(1) && !rs.getBoolean(2)) {
                    problems.add("user '" + config.user() + "' has neither REPLICATION nor SUPERUSER (ALTER ROLE \"" + config.user() + "\" REPLICATION)");
                }
            }
            String walLevel = setting(s, "wal_level");
            if (walLevel.equals("minimal")) {
                problems.add("wal_level is minimal; set it to replica (needs a restart)");
            }
            int senders = Integer.parseInt(setting(s, "max_wal_senders"));
            if (senders < 1) {
                problems.add("max_wal_senders is 0; set it to at least 2 (needs a restart)");
            }
            long bytes;
            try (ResultSet rs = s.executeQuery("SELECT coalesce(sum(pg_database_size(oid)), 0) FROM pg_database WHERE datallowconn")) {
                rs.next();
                bytes = rs.getLong(1);
            }
            List<PostgresFacts.Tablespace> tablespaces = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT oid, spcname, pg_tablespace_location(oid) FROM pg_tablespace"
                    + " WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY oid")) {
                while (rs.next()) {
                    tablespaces.add(new PostgresFacts.Tablespace(rs.getLong(1), rs.getString(2), rs.getString(3)));
                }
            }
            if (!tablespaces.isEmpty()) {
                problems.add("the cluster has tablespaces beyond pg_default and pg_global (" + tablespaces.stream()
                        .map(t -> t.name() + " at " + t.location()).toList() + "), which physical mode does not back up yet; use postgres.mode logical");
            }
            if (!problems.isEmpty()) {
                throw new DrException(Failure.SOURCE, "pg_basebackup cannot copy PostgreSQL " + version + " at " + where() + ": "
                        + String.join("; ", problems));
            }
            return new Preflight(version, sameMajor(version), bytes, List.copyOf(tablespaces));
        } catch (SQLException e) {
            throw server.unreachable(database, e);
        }
    }

    private static String setting(Statement s, String name) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT current_setting('" + name + "')")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private String sameMajor(String serverVersion) {
        String tool = server.toolVersion("pg_basebackup", serverVersion);
        Matcher t = MAJOR.matcher(tool.replaceAll("^[^0-9]*", ""));
        Matcher s = MAJOR.matcher(serverVersion);
        if (t.lookingAt() && s.lookingAt() && !t.group(1).equals(s.group(1))) {
            throw new DrException(Failure.SOURCE, tool + " cannot copy PostgreSQL " + serverVersion + " at " + where()
                    + ": pg_basebackup works only with its own major version; install the version " + s.group(1)
                    + " client tools and set postgres.binDir");
        }
        return tool;
    }

    /** Starts {@code pg_basebackup} writing one tar to stdout; the password goes through the environment. */
    public ChildProcess basebackup(String label) {
        return server.start("pg_basebackup of " + where(), "pg_basebackup", List.of("--format=tar", "--pgdata=-",
                "--wal-method=" + config.physical().wal(), "--checkpoint=" + config.physical().checkpoint(), "--label=" + label));
    }

    /**
     * Facts of every configured database that exists, read over a normal connection while the copy runs: the copy
     * reflects a slightly later moment, so they are approximate.
     */
    public List<DatabaseFacts> approximateFacts() {
        List<DatabaseFacts> out = new ArrayList<>();
        for (DatabaseSpec db : config.databases().list()) {
            try (Connection c = server.connect(db.name())) {
                out.add(DifyFacts.read(c, db.name()));
            } catch (SQLException e) {
                if (!(db.optional() && PostgresConnector.isMissingDatabase(e))) {
                    throw server.unreachable(db.name(), e);
                }
            }
        }
        return out;
    }

    /** Where the backup started, read from the {@code backup_label} that pg_basebackup puts first in base.tar. */
    public record Start(String lsn, Integer timeline) {
        public static final Start UNKNOWN_START = new Start(null, null);
    }

    /**
     * Copies base.tar from {@code tar} to {@code out}, keeping its first blocks to read the {@code backup_label} from.
     * It costs one bounded copy of the first few KiB, nothing else.
     */
    public static Start copyReadingStart(InputStream tar, OutputStream out) throws IOException {
        byte[] head = new byte[8 * TAR_BLOCK];
        int kept = 0;
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = tar.read(buffer)) > 0) {
            if (kept < head.length) {
                int take = Math.min(n, head.length - kept);
                System.arraycopy(buffer, 0, head, kept, take);
                kept += take;
            }
            out.write(buffer, 0, n);
        }
        return start(head, kept);
    }

    static Start start(byte[] head, int length) {
        if (length < TAR_BLOCK) {
            return Start.UNKNOWN_START;
        }
        String name = new String(head, 0, 100, StandardCharsets.US_ASCII);
        name = name.indexOf(0) < 0 ? name : name.substring(0, name.indexOf(0));
        if (!name.equals("backup_label")) {
            return Start.UNKNOWN_START;
        }
        String size = new String(head, 124, 12, StandardCharsets.US_ASCII).replace("\0", "").strip();
        int bytes;
        try {
            bytes = Integer.parseInt(size, 8);
        } catch (NumberFormatException e) {
            return Start.UNKNOWN_START;
        }
        String label = new String(head, TAR_BLOCK, Math.max(0, Math.min(bytes, length - TAR_BLOCK)), StandardCharsets.UTF_8);
        Matcher lsn = START_LSN.matcher(label);
        Matcher timeline = START_TIMELINE.matcher(label);
        return new Start(lsn.find() ? lsn.group(1) : null, timeline.find() ? Integer.valueOf(timeline.group(1)) : null);
    }
}
