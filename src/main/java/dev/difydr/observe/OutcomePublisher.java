package dev.difydr.observe;

import dev.difydr.config.Config;
import dev.difydr.notify.Notifier;
import dev.difydr.notify.Redaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the world how a job ended: notifications to the targets that hear it, and, for a one-shot run (a CronJob's, or
 * one by hand), its metrics pushed to {@code metrics.pushgateway}.
 *
 * <p>Two environment variables say how the run was started. {@value #SCHEDULE_ENV} names the schedule that fired it:
 * the {@code schedule} label of its metrics and notifications, and part of its Pushgateway group. {@code dify-dr
 * schedule} sets it for the runs it starts, and the Helm chart's CronJobs set it too. {@value #SCHEDULER_ENV} (value
 * {@code 1}) is set by {@code dify-dr schedule} alone: the run is its child, whose metrics it serves on its own
 * {@code /metrics}, so the run does not push. Nothing here fails the run or writes to stdout; the time it takes is
 * bounded by the notifier's budget and the push's timeout.
 */
public final class OutcomePublisher {
    /** The name of the schedule that fired this run: set by {@code dify-dr schedule} and by the chart's CronJobs. */
    public static final String SCHEDULE_ENV = "DIFY_DR_SCHEDULE";
    /** Set (to 1) by {@code dify-dr schedule} for the runs it starts: they do not push, the scheduler serves /metrics. */
    public static final String SCHEDULER_ENV = "DIFY_DR_SCHEDULER";
    private static final Logger log = LoggerFactory.getLogger(OutcomePublisher.class);

    private final Notifier notifier;
    private final Pushgateway pushgateway;

    OutcomePublisher(Notifier notifier, Pushgateway pushgateway) {
        this.notifier = notifier;
        this.pushgateway = pushgateway;
    }

    /** {@code scheduled}: the run was started by {@code dify-dr schedule}, which publishes its metrics itself. */
    public static OutcomePublisher of(Config config, boolean scheduled) {
        String url = config.metrics().pushgateway();
        return new OutcomePublisher(new Notifier(config.notifications(), Redaction.of(config)),
                scheduled || url == null || url.isBlank() ? null : new Pushgateway(url));
    }

    public void publish(JobOutcome outcome) {
        try {
            notifier.send(outcome);
        } catch (RuntimeException e) {
            log.warn("notifications of this {} were not sent: {}", outcome.job(), e.toString());
        }
        if (pushgateway != null) {
            Metrics metrics = new Metrics();
            metrics.record(outcome);
            pushgateway.push(metrics, outcome);
        }
    }
}
