package dev.difydr.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one run of a job ({@code backup}, {@code verify}, {@code drill}, {@code prune}, {@code restore}) did, as metrics
 * and notifications see it. Built from the command's {@code --json} document and exit code, so a run in this process
 * and a run in a child process (the scheduler's) are described the same way.
 *
 * @param schedule    the schedule that fired it, or null for a run started by hand or by a CronJob
 * @param status      the document's own {@code status} ({@code completed}, {@code ok}, {@code passed},
 *                    {@code thresholds_missed}, {@code failed}, …), or {@code failed}/{@code completed} from the exit
 *                    code when the document has none
 * @param error       what went wrong, for people; null on success
 * @param backupId    the backup the job made or read (a backup's id; a verify's, a drill's or a restore's backup)
 * @param storedBytes stored bytes per component ({@code postgres}, {@code redis}, {@code storage}) of a backup
 * @param backupsKept backups left after a prune
 * @param rto         a drill's RTO (wall time of its restore)
 * @param rpo         a drill's RPO (age of the backup's data when the drill began)
 */
public record JobOutcome(
        String deployment,
        String job,
        String schedule,
        Instant startedAt,
        Instant finishedAt,
        int exitCode,
        String status,
        String error,
        String backupId,
        Map<String, Long> storedBytes,
        Integer backupsKept,
        Duration rto,
        Duration rpo) {

    public JobOutcome {
        storedBytes = storedBytes == null ? Map.of() : Map.copyOf(storedBytes);
        schedule = schedule == null || schedule.isBlank() ? null : schedule;
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
        JsonNode doc = result == null ? MissingNode.getInstance() : result;
        String status = text(doc.path("status"));
        if (status == null) {
            status = exitCode == 0 ? "completed" : "failed";
        }
        Map<String, Long> stored = new LinkedHashMap<>();
        if (exitCode == 0 && "backup".equals(job)) {
            for (JsonNode a : doc.path("artifacts")) {
                String kind = text(a.path("kind"));
                if (kind != null && a.path("storedBytes").canConvertToLong()) {
                    stored.merge(kind, a.path("storedBytes").asLong(), Long::sum);
                }
            }
        }
        Integer kept = doc.path("kept").canConvertToInt() && "prune".equals(job) ? doc.path("kept").asInt() : null;
        Duration rto = doc.path("rtoSeconds").isNumber() ? Duration.ofNanos(Math.round(doc.path("rtoSeconds").asDouble() * 1e9)) : null;
        Duration rpo = doc.path("rpoSeconds").isNumber() ? Duration.ofSeconds(doc.path("rpoSeconds").asLong()) : null;
        return new JobOutcome(deployment, job, schedule, startedAt, finishedAt, exitCode, status,
                exitCode == 0 ? null : error(doc, exitCode), backupId(job, doc), stored, kept, rto, rpo);
    }

    private static String backupId(String job, JsonNode doc) {
        String backupId = text(doc.path("backupId"));
        if (backupId != null) {
            return backupId;
        }
        // a backup's and a verify's document name the backup as their own id; a drill's or a restore's id is their own
        return "backup".equals(job) || "verify".equals(job) ? text(doc.path("id")) : null;
    }

    /** The failure, from whichever field the document keeps it in. */
    private static String error(JsonNode doc, int exitCode) {
        String message = text(doc.path("error").path("message"));
        if (message != null) {
            return message;
        }
        message = text(doc.path("failure"));
        if (message != null) {
            return message;
        }
        List<String> lines = new ArrayList<>();
        doc.path("missedThresholds").forEach(m -> lines.add(m.asText()));
        for (JsonNode check : doc.path("artifacts")) {
            if (check.has("ok") && !check.path("ok").asBoolean()) {
                lines.add(check.path("path").asText() + ": " + check.path("detail").asText());
            }
        }
        return lines.isEmpty() ? "exit code " + exitCode : String.join("\n", lines);
    }

    private static String text(JsonNode node) {
        return node.isValueNode() && !node.isNull() && !node.asText().isEmpty() ? node.asText() : null;
    }
}
