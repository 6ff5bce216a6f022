package dev.difydr.config;

/**
 * Metrics: {@code port} is where {@code schedule} serves {@code /healthz} and {@code /metrics} (off when unset);
 * {@code pushgateway} is the Pushgateway URL a one-shot run (a CronJob) pushes its metrics to (none when unset).
 */
public record MetricsConfig(Integer port, String pushgateway) {
    public static final MetricsConfig DEFAULT = new MetricsConfig(null, null);
}
