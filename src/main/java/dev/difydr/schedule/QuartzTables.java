package dev.difydr.schedule;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * Quartz's tables in PostgreSQL, from Quartz's own script in its jar. That script starts by dropping every table, which
 * would wipe the store of a scheduler already running on it: here its DROP lines are left out, each CREATE becomes a
 * CREATE … IF NOT EXISTS, and the whole runs only when a table is missing, in one transaction under an advisory lock so
 * that replicas starting together do it once. The scheduler's rows of {@code QRTZ_LOCKS} are inserted here as well:
 * Quartz inserts a missing row on first use, and two nodes doing that at once on PostgreSQL abort one transaction
 * (quartz-scheduler/quartz#647).
 */
final class QuartzTables {
    static final String SCRIPT = "org/quartz/impl/jdbcjobstore/tables_postgres.sql";
    static final List<String> TABLES = List.of("qrtz_job_details", "qrtz_triggers", "qrtz_simple_triggers", "qrtz_cron_triggers",
            "qrtz_simprop_triggers", "qrtz_blob_triggers", "qrtz_calendars", "qrtz_paused_trigger_grps", "qrtz_fired_triggers",
            "qrtz_scheduler_state", "qrtz_locks");
    static final List<String> LOCKS = List.of("TRIGGER_ACCESS", "STATE_ACCESS");
    /** pg_advisory_xact_lock key of this setup: "dify-dr" in ASCII. */
    private static final long ADVISORY_KEY = 0x646966792d6472L;

    private QuartzTables() {
    }

    /** Creates what is missing; returns whether the tables had to be created. */
    static boolean ensure(DataSource dataSource, String schedulerName) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            boolean created = false;
            try (Statement st = c.createStatement()) {
                st.execute("SELECT pg_advisory_xact_lock(" + ADVISORY_KEY + ")");
                if (missingTables(c) > 0) {
                    for (String sql : statements()) {
                        st.execute(sql);
                    }
                    created = true;
                }
                try (PreparedStatement insert = c.prepareStatement(
                        "INSERT INTO qrtz_locks (sched_name, lock_name) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
                    for (String lock : LOCKS) {
                        insert.setString(1, schedulerName);
                        insert.setString(2, lock);
                        insert.executeUpdate();
                    }
                }
                c.commit();
                return created;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    static int missingTables(Connection c) throws SQLException {
        int missing = 0;
        try (PreparedStatement q = c.prepareStatement("SELECT to_regclass(?) IS NULL")) {
            for (String t : TABLES) {
                q.setString(1, t);
                try (ResultSet rs = q.executeQuery()) {
                    rs.next();
                    missing += rs.getBoolean(1) ? 1 : 0;
                }
            }
        }
        return missing;
    }

    /** Quartz's script without its comments, DROP TABLE lines and COMMIT, each CREATE made idempotent. */
    static List<String> statements() {
        String script;
        try (InputStream in = QuartzTables.class.getClassLoader().getResourceAsStream(SCRIPT)) {
            if (in == null) {
                throw new IllegalStateException(SCRIPT + " is not in the class path (the quartz jar)");
            }
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + SCRIPT, e);
        }
        StringBuilder kept = new StringBuilder();
        for (String line : script.split("\n")) {
            if (!line.trim().startsWith("--")) {
                kept.append(line).append('\n');
            }
        }
        List<String> out = new ArrayList<>();
        for (String sql : kept.toString().split(";")) {
            String s = sql.trim();
            String upper = s.toUpperCase(Locale.ROOT);
            if (s.isEmpty() || upper.startsWith("DROP ") || upper.equals("COMMIT")) {
                continue;
            }
            if (upper.startsWith("CREATE TABLE ")) {
                s = "CREATE TABLE IF NOT EXISTS " + s.substring("CREATE TABLE ".length());
            } else if (upper.startsWith("CREATE INDEX ")) {
                s = "CREATE INDEX IF NOT EXISTS " + s.substring("CREATE INDEX ".length());
            } else {
                throw new IllegalStateException("unexpected statement in " + SCRIPT + ": " + s.lines().findFirst().orElse(s));
            }
            out.add(s);
        }
        return out;
    }
}
