package dev.difydr.source.postgres;

import dev.difydr.repository.DatabaseFacts;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What identifies the contents of a Dify database: its {@code alembic_version} and the exact row counts of Dify's key
 * tables. Recorded with every dump, compared after every restore.
 */
public final class DifyFacts {
    /** Dify's tables whose exact row counts are recorded when they exist (main and plugin databases). */
    public static final List<String> KEY_TABLES = List.of(
            "accounts", "tenants", "tenant_account_joins", "apps", "app_model_configs", "conversations", "messages",
            "message_files", "datasets", "documents", "document_segments", "workflows", "workflow_runs",
            "workflow_node_executions", "upload_files", "end_users", "api_tokens", "providers", "dify_setups",
            "plugins", "plugin_installations", "plugin_declarations", "ai_model_installations", "tool_installations",
            "endpoints");

    private DifyFacts() {
    }

    /** Reads the facts of the database {@code c} is connected to, in {@code c}'s current transaction. */
    public static DatabaseFacts read(Connection c, String database) throws SQLException {
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

    /** What differs between the recorded facts and those of a restored copy; empty when they agree (size aside). */
    public static List<String> differences(DatabaseFacts recorded, DatabaseFacts restored) {
        List<String> out = new ArrayList<>();
        if (!java.util.Objects.equals(recorded.alembicVersion(), restored.alembicVersion())) {
            out.add("alembic_version is " + restored.alembicVersion() + ", backup recorded " + recorded.alembicVersion());
        }
        for (Map.Entry<String, Long> e : recorded.rowCounts().entrySet()) {
            Long got = restored.rowCounts().get(e.getKey());
            if (!e.getValue().equals(got)) {
                out.add(e.getKey() + " has " + (got == null ? "no table" : got + " rows") + ", backup recorded " + e.getValue());
            }
        }
        for (String table : restored.rowCounts().keySet()) {
            if (!recorded.rowCounts().containsKey(table)) {
                out.add(table + " exists after the restore but was not in the backup");
            }
        }
        return out;
    }
}
