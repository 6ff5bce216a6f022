package dev.difydr.observe;

import dev.difydr.config.Config;
import dev.difydr.notify.Notifier;
import dev.difydr.notify.Redaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the world how a job ended: notifications to the targets that hear it, and, for a one-shot run (a CronJob's),
 * its metrics pushed to {@code metrics.pushgateway}. A run started by {@code dify-dr schedule} (which sets
 * {@value #SCHEDULE_ENV} and serves {@code /metrics} itself) does not push. Nothing here fails the run or writes to
 * stdout; the time it takes is bounded by the notifier's budget and the push's timeout.
 */
public final class OutcomePublisher {
    /** Set by {@code dify-dr schedule} for the runs it starts: the name of the schedule that fired. */
    public static final String SCHEDULE_ENV = "DIFY_DR_SCHEDULE";
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
