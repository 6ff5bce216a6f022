package dev.difydr.config;

/**
 * How {@code dify-dr schedule} keeps its schedules: {@code jobStore} {@code ram} (default: one scheduler) or {@code jdbc}
 * (Quartz's clustered JobStore in PostgreSQL, so several replicas never fire one schedule twice; {@code jdbc} names the
 * database). {@code gracePeriod}: how long a running job may finish after SIGTERM before it is aborted.
 */
public record ScheduleConfig(
        String jobStore,
        JdbcStore jdbc,
        String gracePeriod) {

    public static final ScheduleConfig DEFAULT = new ScheduleConfig(null, null, null);

    /** The PostgreSQL database of a clustered JobStore; {@code password} is a secret reference. */
    public record JdbcStore(String host, Integer port, String database, String user, String password, String sslmode) {
    }
}
