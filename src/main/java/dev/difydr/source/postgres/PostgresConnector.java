package dev.difydr.source.postgres;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.PostgresConfig;
import dev.difydr.source.ChildProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How dify-dr reaches one PostgreSQL server: JDBC connections, and the client tools ({@code pg_dump},
 * {@code pg_restore}) with the password in their environment, never on their command line.
 */
public final class PostgresConnector {
    private static final Pattern VERSION = Pattern.compile("(\\d+)(?:\\.(\\d+))?");
    static final String UNDEFINED_DATABASE = "3D000";

    private final PostgresConfig config;

    public PostgresConnector(PostgresConfig config) {
        this.config = config;
    }

    public String where() {
        return config.host() + ":" + config.port();
    }

    public Connection connect(String database) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", config.user());
        p.setProperty("password", config.password().reveal());
        p.setProperty("sslmode", config.sslmode());
        p.setProperty("connectTimeout", "10");
        p.setProperty("ApplicationName", "dify-dr");
        String host = config.host().contains(":") && !config.host().startsWith("[") ? "[" + config.host() + "]" : config.host();
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + config.port() + "/" + database, p);
    }

    /** A SOURCE failure for a database that cannot be reached, saying why in PostgreSQL's words. */
    public DrException unreachable(String database, SQLException e) {
        if (isMissingDatabase(e)) {
            return new DrException(Failure.SOURCE, "database '" + database + "' does not exist on PostgreSQL " + where(), e);
        }
        return new DrException(Failure.SOURCE, "cannot connect to database '" + database + "' on PostgreSQL " + where()
                + " as user '" + config.user() + "': " + e.getMessage(), e);
    }

    static boolean isMissingDatabase(SQLException e) {
        return UNDEFINED_DATABASE.equals(e.getSQLState());
    }

    public static String serverVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The path of a client tool: in {@code postgres.binDir} when set, else the PATH. */
    public String tool(String name) {
        return config.binDir() == null ? name : Path.of(config.binDir(), name).toString();
    }

    /** {@code <tool> --version}, checked to be at least the server's major version (older tools refuse newer servers). */
    public String toolVersion(String name, String serverVersion) {
        ChildProcess child = ChildProcess.start(name + " --version", List.of(tool(name), "--version"), Map.of());
        String out;
        try {
            out = new String(child.stdout().readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new DrException(Failure.SOURCE, "cannot run " + tool(name) + " --version: " + e.getMessage(), e);
        }
        child.finish();
        Matcher tool = VERSION.matcher(out.replaceAll("^[^0-9]*", ""));
        Matcher server = VERSION.matcher(serverVersion);
        if (tool.lookingAt() && server.lookingAt() && Integer.parseInt(tool.group(1)) < Integer.parseInt(server.group(1))) {
            throw new DrException(Failure.SOURCE, out + " cannot work with PostgreSQL " + serverVersion + " at " + where()
                    + ": install the client tools of version " + server.group(1) + " or newer and set postgres.binDir");
        }
        return out;
    }

    /** Starts a client tool against this server; the password and TLS mode go through the environment. */
    public ChildProcess start(String what, String toolName, List<String> arguments) {
        return start(what, toolName, arguments, false);
    }

    /** Like {@link #start} for a tool that reads its data from stdin. */
    public ChildProcess startReading(String what, String toolName, List<String> arguments) {
        return start(what, toolName, arguments, true);
    }

    private ChildProcess start(String what, String toolName, List<String> arguments, boolean reading) {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(tool(toolName));
        cmd.add("--no-password");
        cmd.add("--host=" + config.host());
        cmd.add("--port=" + config.port());
        cmd.add("--username=" + config.user());
        cmd.addAll(arguments);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGPASSWORD", config.password().reveal());
        env.put("PGSSLMODE", config.sslmode());
        env.put("PGAPPNAME", "dify-dr");
        env.put("PGCONNECT_TIMEOUT", "10");
        return reading ? ChildProcess.startReading(what, cmd, env) : ChildProcess.start(what, cmd, env);
    }

    static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing more to release
        }
    }
}
