package dev.difydr.observe;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * What one run of a job ({@code backup}, {@code verify}, {@code drill}, {@code prune}) did, as metrics and notifications
 * see it. Built from the command's {@code --json} document and exit code, so a run in this process and a run in a child
 * process (the scheduler's) are described the same way.
 *
 * @param schedule  the schedule that fired it, or null for a run started by hand or by a CronJob
 * @param storedBytes stored bytes per component ({@code postgres}, {@code redis}, {@code storage}) of a backup
 */
public record JobOutcome(
        String deployment,
        String job,
        String schedule,
        Instant startedAt,
        Instant finishedAt,
        int exitCode,
        String error,
        String backupId,
        Map<String, Long> storedBytes,
        Integer backupsKept,
        Duration rto,
        Duration rpo) {

    public JobOutcome {
        storedBytes = storedBytes == null ? Map.of() : Map.copyOf(storedBytes);
    }

    public boolean succeeded() {
        return exitCode == 0;
    }

    public Duration duration() {
        return Duration.between(startedAt, finishedAt);
    }

    /** Reads a command's JSON document (its result, or {@code {"status":"failed","error":…}}). */
    public static JobOutcome of(String deployment, String job, String schedule, JsonNode result, int exitCode,
                                Instant startedAt, Instant finishedAt) {
        JsonNode doc = result == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : result;
        String error = doc.path("error").path("message").asText(null);
        String backupId = doc.path("id").asText(null);
        return new JobOutcome(deployment, job, schedule, startedAt, finishedAt, exitCode, error, backupId, Map.of(), null, null, null);
    }
}
