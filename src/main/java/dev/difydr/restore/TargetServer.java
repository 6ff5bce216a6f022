package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Config;
import dev.difydr.config.PostgresConfig;
import dev.difydr.config.RestoreConfig;

/**
 * The PostgreSQL server the new databases go to: Dify's own (the postgres section), {@code restore.target}, or
 * {@code --target-host}. {@code moved} means Dify's DB_HOST/DB_PORT are rewired to it too.
 */
record TargetServer(String host, int port, boolean moved) {

    static TargetServer resolve(Config config, String targetHost) {
        PostgresConfig base = config.postgres();
        RestoreConfig.PostgresTarget t = config.restore().target();
        String host = t != null && t.host() != null ? t.host() : base.host();
        int port = t != null && t.port() != null ? t.port() : base.port();
        if (targetHost == null) {
            return new TargetServer(host, port, t != null && t.host() != null);
        }
        if (targetHost.startsWith("[") && targetHost.contains("]")) {
            int close = targetHost.indexOf(']');
            if (targetHost.length() > close + 1) {
                if (targetHost.charAt(close + 1) != ':') {
                    throw new DrException(Failure.USAGE, "--target-host '" + targetHost + "' must be HOST, HOST:PORT or [IPV6]:PORT");
                }
                port = parsePort(targetHost, targetHost.substring(close + 2));
            }
            return new TargetServer(targetHost.substring(1, close), port, true);
        }
        int colon = targetHost.lastIndexOf(':');
        if (colon > 0 && targetHost.indexOf(':') == colon) {
            return new TargetServer(targetHost.substring(0, colon), parsePort(targetHost, targetHost.substring(colon + 1)), true);
        }
        return new TargetServer(targetHost, port, true);
    }

    /** The server a journal recorded. */
    static TargetServer of(Journal j) {
        return new TargetServer(j.targetHost, j.targetPort, j.moveServer);
    }

    void recordIn(Journal j) {
        j.targetHost = host;
        j.targetPort = port;
        j.moveServer = moved;
    }

    /** How dify-dr connects to it: this host and port, the rest from restore.target or postgres. */
    PostgresConfig connection(Config config) {
        RestoreConfig.PostgresTarget t = config.restore().target();
        PostgresConfig c = t == null ? config.postgres() : t.over(config.postgres());
        return new PostgresConfig(host, port, c.user(), c.password(), null, null, c.sslmode(), c.binDir());
    }

    private static int parsePort(String targetHost, String port) {
        try {
            int p = Integer.parseInt(port);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new DrException(Failure.USAGE, "--target-host '" + targetHost + "' must be HOST, HOST:PORT or [IPV6]:PORT with a port of 1-65535");
    }
}
