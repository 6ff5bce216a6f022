package dev.difydr.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The metrics of this process's runs, in Prometheus names and units: served on {@code /metrics} by {@code schedule},
 * pushed to a Pushgateway by a one-shot run.
 *
 * <p>Labels are bounded: {@code deployment}, {@code command} (backup, verify, drill, prune, restore), {@code schedule}
 * (empty for a run by hand), {@code component} (postgres, redis, storage, kubernetes) and {@code result} (success,
 * failure); never a backup id. The dify-dr job kind is labelled {@code command}, not {@code job}: Prometheus owns
 * {@code job} (the scrape job, and the Pushgateway's grouping key overwrites it).
 *
 * <p>Each gauge reads a value this object holds for the life of the registry (registered with a strong reference), so
 * a gauge never falls back to NaN once it has a value. A gauge appears only once there is something to say: a
 * deployment that never succeeded has no last-success sample (alert on {@code absent()} or on the failure timestamp).
 */
public final class Metrics {
    static final String LAST_SUCCESS = "dify.dr.job.last.success.timestamp";
    static final String LAST_FAILURE = "dify.dr.job.last.failure.timestamp";
    static final String LAST_DURATION = "dify.dr.job.last.duration";
    static final String LAST_EXIT_CODE = "dify.dr.job.last.exit.code";
    static final String RUNS = "dify.dr.job.runs";
    static final String BACKUP_STORED = "dify.dr.backup.last.stored";
    static final String BACKUPS_KEPT = "dify.dr.backups.kept";
    static final String DRILL_RTO = "dify.dr.drill.rto";
    static final String DRILL_RPO = "dify.dr.drill.rpo";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** The value behind each gauge, by metric name and labels; the gauges read these and nothing else. */
    private final Map<List<Object>, AtomicReference<Double>> values = new ConcurrentHashMap<>();

    /** Records a finished run. */
    public void record(JobOutcome outcome) {
        Tags run = Tags.of("deployment", outcome.deployment(), "command", outcome.job(),
                "schedule", outcome.schedule() == null ? "" : outcome.schedule());
        double finished = outcome.finishedAt().toEpochMilli() / 1000.0;
        if (outcome.succeeded()) {
            set(LAST_SUCCESS, "seconds", "Unix time the last successful run of this command finished", run, finished);
        } else {
            set(LAST_FAILURE, "seconds", "Unix time the last failed run of this command finished", run, finished);
        }
        set(LAST_DURATION, "seconds", "Wall time of the last run of this command", run, outcome.duration().toNanos() / 1e9);
        set(LAST_EXIT_CODE, null, "Exit code of the last run of this command (0 success; see dify-dr --help)", run, outcome.exitCode());
        Counter.builder(RUNS).description("Runs of this command by result").tags(run)
                .tag("result", outcome.succeeded() ? "success" : "failure").register(registry).increment();

        Tags deployment = Tags.of("deployment", outcome.deployment(), "schedule", outcome.schedule() == null ? "" : outcome.schedule());
        outcome.storedBytes().forEach((component, bytes) -> set(BACKUP_STORED, "bytes",
                "Bytes stored in the repository by the last completed backup that included this component", deployment.and("component", component), bytes));
        if (outcome.backupsKept() != null) {
            set(BACKUPS_KEPT, null, "Backups in the repository after the last prune", deployment, outcome.backupsKept());
        }
        if (outcome.rto() != null) {
            set(DRILL_RTO, "seconds", "RTO measured by the last drill: wall time of its restore", deployment, outcome.rto().toNanos() / 1e9);
        }
        if (outcome.rpo() != null) {
            set(DRILL_RPO, "seconds", "RPO measured by the last drill: age of the restored backup's data when the drill began",
                    deployment, outcome.rpo().toSeconds());
        }
    }

    private void set(String name, String baseUnit, String description, Tags tags, double value) {
        AtomicReference<Double> holder = values.computeIfAbsent(List.of(name, tags), key -> {
            AtomicReference<Double> created = new AtomicReference<>(value);
            Gauge.builder(name, created, AtomicReference::get).baseUnit(baseUnit).description(description).tags(tags)
                    .strongReference(true).register(registry);
            return created;
        });
        holder.set(value);
    }

    /** The Prometheus text exposition of everything recorded. */
    public String scrape() {
        return registry.scrape();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }
}
