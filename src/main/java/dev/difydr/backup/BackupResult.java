package dev.difydr.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.difydr.ErrorReport;
import dev.difydr.pipeline.Bytes;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.Manifest;
import java.util.List;

/**
 * The outcome of one backup run: {@code completed} with a manifest, or {@code failed} with the reason; {@code warnings}
 * are what the run found that needs an operator without failing it (as in the manifest).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BackupResult(
        String id,
        String status,
        String repository,
        List<Artifact> artifacts,
        List<Manifest.Skipped> skipped,
        List<String> warnings,
        double durationSeconds,
        ErrorReport error) implements dev.difydr.Printable {

    public static final String FAILED = "failed";

    /** The exit code of this outcome: 0 when completed. */
    public int exitCode() {
        return error == null ? 0 : error.exitCode();
    }

    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append("backup ").append(id).append(": ").append(status)
                .append(String.format(java.util.Locale.ROOT, " in %.1f s", durationSeconds)).append('\n');
        sb.append("repository ").append(repository).append('\n');
        for (Artifact a : artifacts) {
            sb.append(String.format(java.util.Locale.ROOT, "  %-10s %-22s %10s -> %10s  sha256 %s%n", a.kind(), a.name(),
                    Bytes.human(a.plainBytes()), Bytes.human(a.storedBytes()), a.sha256()));
        }
        if (skipped != null) {
            for (Manifest.Skipped s : skipped) {
                sb.append("  skipped ").append(s.component()).append(' ').append(s.name()).append(": ").append(s.reason()).append('\n');
            }
        }
        if (warnings != null) {
            for (String w : warnings) {
                sb.append("  WARNING: ").append(w).append('\n');
            }
        }
        if (error != null) {
            sb.append("error: ").append(error.message()).append('\n');
            sb.append("nothing of this run is listed as a backup; its leftovers show in 'list --all' as incomplete\n");
        }
        return sb.toString();
    }
}
