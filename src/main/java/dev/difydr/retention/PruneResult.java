package dev.difydr.retention;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.difydr.Printable;
import dev.difydr.config.RetentionConfig;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * What prune decided and, unless {@code dryRun}, did. {@code backups}: every backup with a manifest (completed ones
 * and damaged ones, which are always kept), newest first; {@code incomplete}: runs that never completed (no manifest,
 * or a status other than completed); {@code kept}/{@code removed} count backups; {@code uploadsAborted} counts
 * unfinished uploads older than the grace period (in a dry run: that would be aborted).
 */
public record PruneResult(String deployment, boolean dryRun, RetentionConfig policy, String rules, List<Backup> backups,
                          List<Incomplete> incomplete, int kept, int removed, int uploadsAborted, int uploadsPending) implements Printable {

    public static final String KEEP = "keep";
    public static final String REMOVE = "remove";

    /**
     * {@code group}: the components the backup was taken of ("postgres+redis+storage"), when the repository holds
     * backups of different components, each group kept by the rules on its own; null otherwise and for a damaged backup.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Backup(String id, String status, Instant startedAt, String decision, List<String> reasons, String group) {
    }

    public record Incomplete(String id, String status, Instant startedAt, int objects, String decision, String reason) {
    }

    @Override
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(dryRun ? "prune plan" : "prune").append(" of deployment '").append(deployment).append("': ").append(rules).append('\n');
        if (backups.isEmpty()) {
            sb.append("no backups\n");
        }
        for (Backup b : backups) {
            sb.append(String.format(Locale.ROOT, "  %-6s  %-24s %-9s  %s", b.decision(), b.id(), b.status(), String.join(", ", b.reasons())
                    + (b.group() == null ? "" : (b.reasons().isEmpty() ? "" : "  ") + "[" + b.group() + "]")).stripTrailing()).append('\n');
        }
        if (!incomplete.isEmpty()) {
            sb.append("runs that never completed:\n");
            for (Incomplete i : incomplete) {
                sb.append(String.format(Locale.ROOT, "  %-6s  %-24s %-10s %3d objects  %s%n", i.decision(), i.id(), i.status(), i.objects(), i.reason()));
            }
        }
        String verb = dryRun ? "would be " : "";
        sb.append(String.format(Locale.ROOT, "%d backups kept, %d %sremoved; %d incomplete runs %sremoved; %d unfinished uploads %saborted",
                kept, removed, verb, incomplete.stream().filter(i -> i.decision().equals(REMOVE)).count(), verb, uploadsAborted, verb));
        if (uploadsPending > 0) {
            sb.append(String.format(Locale.ROOT, " (%d younger left alone)", uploadsPending));
        }
        sb.append('\n');
        if (dryRun && (removed > 0 || uploadsAborted > 0 || incomplete.stream().anyMatch(i -> i.decision().equals(REMOVE)))) {
            sb.append("nothing was deleted: run 'prune --yes' to apply this plan\n");
        }
        return sb.toString();
    }
}
