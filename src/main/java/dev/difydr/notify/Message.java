package dev.difydr.notify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.difydr.observe.JobOutcome;
import dev.difydr.pipeline.Bytes;
import dev.difydr.repository.Json;
import java.util.Locale;

/**
 * What a notification says about one run, built from its outcome alone: a title, a plain text for chat robots, and
 * the fields of the generic webhook's JSON. Every text passes through the configuration's {@link Redaction}.
 */
record Message(String event, String title, String text, ObjectNode fields) {

    static Message of(JobOutcome o, String event, Redaction redaction) {
        String where = o.deployment() + (o.schedule() == null ? "" : " (schedule " + o.schedule() + ")");
        String result = o.succeeded() ? o.status() : "FAILED" + ("failed".equals(o.status()) ? "" : " (" + o.status().replace('_', ' ') + ")");
        String title = "dify-dr " + o.job() + " " + result + " on " + where;
        StringBuilder text = new StringBuilder(title).append('\n');
        if (o.backupId() != null) {
            text.append("backup: ").append(o.backupId()).append('\n');
        }
        long stored = o.storedBytes().values().stream().mapToLong(Long::longValue).sum();
        if (!o.storedBytes().isEmpty()) {
            text.append("stored: ").append(Bytes.human(stored)).append('\n');
        }
        if (o.backupsKept() != null) {
            text.append("backups kept: ").append(o.backupsKept()).append('\n');
        }
        if (o.rto() != null) {
            text.append(String.format(Locale.ROOT, "RTO: %.1f s%n", o.rto().toMillis() / 1000.0));
        }
        if (o.rpo() != null) {
            text.append(String.format(Locale.ROOT, "RPO: %d s (%.1f h)%n", o.rpo().toSeconds(), o.rpo().toSeconds() / 3600.0));
        }
        text.append(String.format(Locale.ROOT, "duration: %.1f s, exit code %d%n", o.duration().toMillis() / 1000.0, o.exitCode()));
        if (o.error() != null) {
            text.append("error: ").append(o.error()).append('\n');
        }
        ObjectNode fields = Json.MAPPER.createObjectNode();
        fields.put("event", event);
        fields.put("deployment", o.deployment());
        fields.put("job", o.job());
        fields.put("schedule", o.schedule());
        fields.put("status", o.status());
        fields.put("succeeded", o.succeeded());
        fields.put("backupId", o.backupId());
        fields.put("startedAt", o.startedAt().toString());
        fields.put("finishedAt", o.finishedAt().toString());
        fields.put("durationSeconds", o.duration().toMillis() / 1000.0);
        fields.put("exitCode", o.exitCode());
        fields.put("error", redaction.apply(o.error()));
        if (!o.storedBytes().isEmpty()) {
            fields.put("storedBytes", stored);
        }
        if (o.backupsKept() != null) {
            fields.put("backupsKept", o.backupsKept());
        }
        if (o.rto() != null) {
            fields.put("rtoSeconds", o.rto().toMillis() / 1000.0);
        }
        if (o.rpo() != null) {
            fields.put("rpoSeconds", o.rpo().toSeconds());
        }
        fields.put("text", redaction.apply(text.toString().stripTrailing()));
        return new Message(event, redaction.apply(title), redaction.apply(text.toString().stripTrailing()), fields);
    }
}
