package dev.difydr.observe;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.config.Config;
import dev.difydr.repository.Json;
import java.time.Instant;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one command line's run: which job it is, when it started, the configuration it loaded and the document it
 * ended with (its result, or the failure document). When it ends, the outcome is published ({@link OutcomePublisher}).
 */
public final class JobRecorder {
    /** The commands whose runs are jobs: their outcome goes to notifications and the Pushgateway. */
    public static final Set<String> JOBS = Set.of("backup", "verify", "drill", "prune", "restore");
    private static final Logger log = LoggerFactory.getLogger(JobRecorder.class);

    private final Function<String, String> environment;
    private String job;
    private Instant startedAt;
    private Config config;
    private JsonNode document;

    public JobRecorder(Function<String, String> environment) {
        this.environment = environment;
    }

    /** A command starts; {@code changesNothing} (a restore's plan, a prune without --yes): no outcome to tell. */
    public void started(String command, boolean changesNothing) {
        startedAt = Instant.now();
        job = command != null && JOBS.contains(command) && !changesNothing ? command : null;
    }

    public void configLoaded(Config loaded) {
        config = loaded;
    }

    /** The command's result, as {@code --json} prints it. */
    public void result(Object result) {
        if (job == null) {
            return;
        }
        try {
            document = Json.MAPPER.valueToTree(result);
        } catch (IllegalArgumentException e) {
            // the outcome is then read from the exit code alone
            log.debug("cannot read the result of this {} as JSON: {}", job, e.toString());
        }
    }

    /** The failure document the command ended with (printed or not), in place of a result. */
    public void failed(JsonNode failureDocument) {
        document = failureDocument;
    }

    /**
     * After a job (success or failure): its outcome, read from its document and exit code, goes to the notification
     * targets and the Pushgateway. Without a loaded configuration (a configuration or usage error) there is nowhere to
     * send it.
     */
    public void finished(int exitCode) {
        if (job == null || config == null) {
            return;
        }
        try {
            String schedule = environment.apply(OutcomePublisher.SCHEDULE_ENV);
            String scheduler = environment.apply(OutcomePublisher.SCHEDULER_ENV);
            JobOutcome outcome = JobOutcome.of(config.deployment(), job, schedule == null || schedule.isBlank() ? null : schedule.strip(),
                    document, exitCode, startedAt, Instant.now());
            OutcomePublisher.of(config, scheduler != null && !scheduler.isBlank()).publish(outcome);
        } catch (RuntimeException e) {
            log.warn("could not publish the outcome of this {}: {}", job, e.toString());
        }
    }
}
