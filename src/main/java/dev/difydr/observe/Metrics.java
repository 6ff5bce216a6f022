package dev.difydr.observe;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The metrics of this process's runs, in Prometheus names and units: served on {@code /metrics} by {@code schedule},
 * pushed to a Pushgateway by a one-shot run.
 */
public final class Metrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    /** Records a finished run. */
    public void record(JobOutcome outcome) {
    }

    /** The Prometheus text exposition of everything recorded. */
    public String scrape() {
        return registry.scrape();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }
}
