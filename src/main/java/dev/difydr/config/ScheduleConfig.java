package dev.difydr.config;

import java.time.Duration;

/**
 * How {@code dify-dr schedule} keeps its schedules: {@code jobStore} {@code ram} (default: one scheduler) or {@code jdbc}
 * (Quartz's clustered JobStore in PostgreSQL, so several replicas never fire one schedule twice; {@code jdbc} names the
 * database). {@code gracePeriod}: how long a running job may finish after SIGTERM before it is aborted (default 10m).
 */
public record ScheduleConfig(
        String jobStore,
        JdbcStore jdbc,
        String gracePeriod) {

    public static final String RAM = "ram";
    public static final String JDBC = "jdbc";
    public static final ScheduleConfig DEFAULT = new ScheduleConfig(null, null, null);

    public ScheduleConfig {
        jobStore = jobStore == null ? RAM : jobStore;
        gracePeriod = gracePeriod == null ? "10m" : gracePeriod;
    }

    public boolean clustered() {
        return JDBC.equals(jobStore);
    }

    /** The grace period; the configuration loader has refused a value that does not parse. */
    public Duration grace() {
        return Durations.parse(gracePeriod).orElseThrow();
    }

    /** The PostgreSQL database of a clustered JobStore; {@code password} is a secret reference. */
    public record JdbcStore(String host, Integer port, String database, String user, Secret password, String sslmode) {
        public JdbcStore {
            port = port == null ? 5432 : port;
            user = user == null ? "postgres" : user;
            sslmode = sslmode == null ? "prefer" : sslmode;
        }

        /** The server as a {@link PostgresConfig}, to connect the way every other PostgreSQL connection does. */
        public PostgresConfig server() {
            return new PostgresConfig(host, port, user, password, null, null, sslmode, null);
        }
    }
}
