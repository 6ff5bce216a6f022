package dev.difydr.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;

/**
 * The PostgreSQL server Dify uses. {@code databases} ({@link DatabaseSelection}) is a list, by default {@code dify}
 * (required) and {@code dify_plugin} (optional: Dify before 1.0 has no plugin database), or {@code fromDify}.
 * {@code binDir} points at the directory of {@code pg_dump} when it is not on the PATH. {@code mode} is {@code logical} (one {@code pg_dump} per database) or {@code physical} (one
 * {@code pg_basebackup} of the whole cluster, tuned by {@code physical}).
 */
public record PostgresConfig(
        String host,
        Integer port,
        String user,
        Secret password,
        DatabaseSelection databases,
        String mode,
        String sslmode,
        String binDir,
        Physical physical) {

    public PostgresConfig {
        port = port == null ? 5432 : port;
        user = user == null ? "postgres" : user;
        password = password == null ? Secret.of("") : password;
        databases = databases == null ? DatabaseSelection.DEFAULT : databases;
        mode = mode == null ? "logical" : mode;
        sslmode = sslmode == null ? "prefer" : sslmode;
        physical = physical == null ? Physical.DEFAULT : physical;
    }

    public PostgresConfig(String host, Integer port, String user, Secret password, DatabaseSelection databases, String mode,
                          String sslmode, String binDir) {
        this(host, port, user, password, databases, mode, sslmode, binDir, null);
    }

    /** This server with a fixed list of databases: how a backup runs once it knows what {@code fromDify} means now. */
    public PostgresConfig withDatabases(List<DatabaseSpec> list) {
        return new PostgresConfig(host, port, user, password, DatabaseSelection.of(list), mode, sslmode, binDir, physical);
    }

    @JsonIgnore
    public boolean isPhysical() {
        return "physical".equals(mode);
    }

    /**
     * How {@code pg_basebackup} runs in physical mode: {@code wal} is its {@code --wal-method} ({@code fetch} puts the
     * WAL needed for consistency into the base tar), {@code checkpoint} its {@code --checkpoint} ({@code spread} is
     * gentler on a busy server but can take minutes before the first byte).
     */
    public record Physical(String wal, String checkpoint) {
        public static final Physical DEFAULT = new Physical(null, null);

        public Physical {
            wal = wal == null ? "fetch" : wal;
            checkpoint = checkpoint == null ? "fast" : checkpoint;
        }
    }
}
