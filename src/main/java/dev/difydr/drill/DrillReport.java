package dev.difydr.drill;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.difydr.Printable;
import dev.difydr.pipeline.Bytes;
import dev.difydr.restore.ComponentSteps;
import dev.difydr.restore.Journal;
import dev.difydr.smoke.SmokeResult;
import java.time.Instant;
import java.util.List;

/**
 * The evidence of one drill, for an auditor: which backup, restored where, each step timed, validation, smoke
 * checks, the measured RTO (wall time of the restore, preflight to last check) and RPO (age of the backup's data
 * when the drill began), and whether they met the thresholds.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DrillReport(
        String id,
        String deployment,
        String toolVersion,
        String status,
        String backupId,
        Instant backupStartedAt,
        Instant startedAt,
        Instant finishedAt,
        String targetServer,
        List<Journal.TargetDatabase> databases,
        List<Journal.ComponentTarget> components,
        List<String> notDrilled,
        List<String> warnings,
        boolean kept,
        List<Journal.StepRecord> steps,
        List<SmokeResult> smoke,
        Double rtoSeconds,
        Long rpoSeconds,
        Long maxRtoSeconds,
        Long maxRpoSeconds,
        List<String> missedThresholds,
        String failure,
        String reportJson,
        String reportMarkdown,
        @JsonIgnore int exitCode) implements Printable {

    public static final String PASSED = "passed";
    public static final String FAILED = "failed";
    public static final String THRESHOLDS_MISSED = "thresholds_missed";

    @Override
    public String toText() {
        return markdown();
    }

    public String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# DR drill ").append(id).append(": ").append(status.replace('_', ' ').toUpperCase()).append("\n\n");
        sb.append("| | |\n|---|---|\n");
        row(sb, "Deployment", deployment);
        row(sb, "Backup", backupId + (backupStartedAt == null ? "" : " (taken " + backupStartedAt + ")"));
        row(sb, "Drill ran", startedAt + " to " + finishedAt);
        row(sb, "Restored into", targetServer);
        row(sb, "RTO (restore wall time)", rtoSeconds == null ? "not measured" : String.format("%.1f s", rtoSeconds)
                + (maxRtoSeconds == null ? "" : " (threshold " + maxRtoSeconds + " s)"));
        row(sb, "RPO (age of the data at drill time)", rpoSeconds == null ? "not measured" : rpoSeconds + " s ("
                + String.format("%.1f h", rpoSeconds / 3600.0) + ")" + (maxRpoSeconds == null ? "" : " (threshold " + maxRpoSeconds + " s)"));
        row(sb, "dify-dr", toolVersion);
        sb.append("\n## Steps\n\n| step | status | seconds | detail |\n|---|---|---|---|\n");
        for (Journal.StepRecord s : steps) {
            sb.append("| ").append(s.name).append(" | ").append(s.status.label()).append(" | ")
                    .append(s.seconds == null ? "" : String.format("%.1f", s.seconds)).append(" | ")
                    .append(cell(s.error != null ? s.error : s.detail)).append(" |\n");
        }
        if (!databases.isEmpty()) {
            sb.append("\n## Databases\n\n| backup | scratch copy | size | method | validated |\n|---|---|---|---|---|\n");
            for (Journal.TargetDatabase d : databases) {
                sb.append("| ").append(d.source).append(" | ").append(d.target).append(kept ? " (kept)" : " (dropped)").append(" | ")
                        .append(Bytes.human(d.plainBytes)).append(" | ").append(d.method == null ? "" : d.method)
                        .append(d.jobs == null ? "" : ", " + d.jobs + " jobs").append(" | ")
                        .append(d.validated == null ? "not checked" : d.validated ? "yes" : "NO").append(" |\n");
            }
        }
        if (!components.isEmpty() || !notDrilled.isEmpty()) {
            sb.append("\n## Redis, file storage and configuration\n\n| component | scratch target | size | result |\n|---|---|---|---|\n");
            for (Journal.ComponentTarget c : components) {
                sb.append("| ").append(c.kind).append(' ').append(c.name).append(" | ").append(cell(c.target))
                        .append(kept ? " (kept)" : c.kind.equals(ComponentSteps.CONFIG) ? " (what it created deleted)" : " (emptied)")
                        .append(" | ").append(Bytes.human(c.plainBytes)).append(" | ").append(c.restored ? cell(c.detail) : "NOT RESTORED").append(" |\n");
            }
            for (String n : notDrilled) {
                sb.append("| ").append(cell(n)).append(" | not drilled | | |\n");
            }
        }
        if (!warnings.isEmpty()) {
            sb.append("\n## Warnings\n\n");
            warnings.forEach(w -> sb.append("- ").append(w).append('\n'));
        }
        if (!smoke.isEmpty()) {
            sb.append("\n## Smoke checks\n\n| check | result | attempts | answer |\n|---|---|---|---|\n");
            for (SmokeResult r : smoke) {
                sb.append("| ").append(r.name()).append(" | ").append(r.ok() ? "ok" : "FAILED").append(" | ").append(r.attempts())
                        .append(" | ").append(cell(r.detail())).append(" |\n");
            }
        }
        if (!missedThresholds.isEmpty()) {
            sb.append("\n## Missed thresholds\n\n");
            missedThresholds.forEach(m -> sb.append("- ").append(m).append('\n'));
        }
        if (failure != null) {
            sb.append("\n## Failure\n\n").append(failure).append('\n');
        }
        if (reportJson != null) {
            sb.append("\nEvidence: `").append(reportJson).append("` and `").append(reportMarkdown).append("` in the repository.\n");
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append("| ").append(k).append(" | ").append(cell(v)).append(" |\n");
    }

    private static String cell(String s) {
        return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
    }
}
