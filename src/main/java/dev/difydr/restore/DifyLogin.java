package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.PostgresConfig;
import dev.difydr.config.Secret;
import dev.difydr.kube.DatabaseEnv;
import dev.difydr.source.postgres.PostgresConnector;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs in to the target server as Dify will after the rewiring (its DB_USERNAME and DB_PASSWORD), so that a password
 * or pg_hba.conf that would keep Dify out is found before anything is stopped.
 */
final class DifyLogin {
    private static final Logger log = LoggerFactory.getLogger(DifyLogin.class);

    private DifyLogin() {
    }

    static void check(Map<String, List<DatabaseEnv.ContainerSettings>> settings, PostgresConfig target, Journal j) {
        Map<String, DatabaseEnv.ContainerSettings> byLogin = new LinkedHashMap<>();
        settings.values().stream().flatMap(List::stream)
                .filter(s -> s.get(DatabaseEnv.USERNAME) != null && s.get(DatabaseEnv.PASSWORD) != null)
                .forEach(s -> byLogin.putIfAbsent(s.get(DatabaseEnv.USERNAME) + "\u0000" + s.get(DatabaseEnv.PASSWORD), s));
        String where = target.host() + ":" + target.port();
        for (DatabaseEnv.ContainerSettings s : byLogin.values()) {
            PostgresConfig login = new PostgresConfig(target.host(), target.port(), s.get(DatabaseEnv.USERNAME), Secret.of(s.get(DatabaseEnv.PASSWORD)),
                    target.databases(), target.mode(), target.sslmode(), target.binDir());
            try (Connection ignored = new PostgresConnector(login).connect("postgres")) {
                log.debug("Dify's login {} works on {}", login.user(), where);
            } catch (SQLException e) {
                if ("28P01".equals(e.getSQLState())) {
                    throw new DrException(Failure.SOURCE, "Dify's database user '" + login.user() + "' cannot log in to PostgreSQL "
                            + where + " with the password Dify uses (" + s.values().get(DatabaseEnv.PASSWORD).source().describe()
                            + "): " + e.getMessage() + ". Fix the role's password or pg_hba.conf on that server before restoring");
                }
                RestoreWorkflow.warn(j, "cannot check that Dify's user '" + login.user() + "' can log in to " + where + ": " + e.getMessage());
            }
        }
    }
}
