package dev.difydr.config;

import java.util.List;

/**
 * The PostgreSQL server Dify uses. {@code databases} defaults to {@code dify} (required) and {@code dify_plugin}
 * (optional: Dify before 1.0 has no plugin database). {@code binDir} points at the directory of {@code pg_dump} when
 * it is not on the PATH.
 */
public record PostgresConfig(
        String host,
        Integer port,
        String user,
        Secret password,
        List<DatabaseSpec> databases,
        String mode,
        String sslmode,
        String binDir) {

    public static final List<DatabaseSpec> DEFAULT_DATABASES =
            List.of(new DatabaseSpec("dify", false), new DatabaseSpec("dify_plugin", true));

    public PostgresConfig {
        port = port == null ? 5432 : port;
        user = user == null ? "postgres" : user;
        password = password == null ? Secret.of("") : password;
        databases = databases == null ? DEFAULT_DATABASES : List.copyOf(databases);
        mode = mode == null ? "logical" : mode;
        sslmode = sslmode == null ? "prefer" : sslmode;
    }
}
