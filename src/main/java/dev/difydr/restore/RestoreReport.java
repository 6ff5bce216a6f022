package dev.difydr.restore;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.difydr.Failure;
import dev.difydr.Printable;
import dev.difydr.kube.EnvChange;
import dev.difydr.pipeline.Bytes;
import dev.difydr.smoke.SmokeResult;
import java.util.List;

/** A restore as the operator sees it: the plan before it runs, or what happened after. */
public record RestoreReport(@JsonUnwrapped Journal journal, String localJournal, String repositoryJournal) implements Printable {

    /** 0 for a plan, a completed restore or a requested rollback; otherwise the failure class of the outcome. */
    @JsonIgnore
    public int exitCode() {
        return switch (journal.state) {
            case ROLLED_BACK -> journal.rollbackRequested ? 0 : Failure.ROLLED_BACK.exitCode();
            case ROLLBACK_FAILED, ROLLING_BACK -> Failure.ROLLBACK_FAILED.exitCode();
            case FAILED -> Failure.INTERNAL.exitCode();
            default -> 0;
        };
    }

    @Override
    public String toText() {
        return journal.state == Journal.State.PLANNED ? plan() : outcome();
    }

    private String plan() {
        Journal j = journal;
        StringBuilder sb = new StringBuilder();
        sb.append("Restore plan for backup ").append(j.backupId).append(" (nothing has been changed)\n");
        sb.append("  ").append(j.step("preflight").detail).append('\n');
        sb.append("Steps:\n");
        int[] n = {0};
        java.util.function.Function<String, String> step = name -> String.format("  %d. %-18s ", ++n[0], name);
        sb.append(step.apply("preflight")).append("done\n");
        sb.append(step.apply("record")).append("save these replicas and database settings to the journal\n");
        sb.append(step.apply("scale-down"));
        sb.append(String.join(", ", j.workloads.stream().map(w -> w.name() + " (" + w.role() + ") " + w.replicas() + " -> 0").toList()));
        sb.append("; wait until their pods are gone\n");
        sb.append(step.apply("restore-databases")).append("on ").append(j.targetHost).append(':').append(j.targetPort).append('\n');
        for (Journal.TargetDatabase d : j.databases) {
            sb.append("       create ").append(d.target).append(" (owner ").append(d.owner).append(") from ").append(d.artifact)
                    .append(" (").append(Bytes.human(d.plainBytes)).append(")\n");
        }
        sb.append(step.apply("validate")).append("row counts of Dify's key tables and alembic_version must equal the backup's\n");
        for (String kind : List.of(ComponentSteps.REDIS, ComponentSteps.STORAGE)) {
            List<Journal.ComponentTarget> of = j.components.stream().filter(c -> c.kind.equals(kind)).toList();
            if (of.isEmpty()) {
                continue;
            }
            boolean replace = kind.equals(ComponentSteps.REDIS) ? j.redisReplace : j.storageOverwrite;
            sb.append(step.apply("restore-" + kind)).append(kind.equals(ComponentSteps.REDIS)
                    ? (replace ? "existing keys are replaced (--redis-replace)" : "existing keys are kept and reported (--redis-replace to replace)")
                    : (replace ? "files with other content are overwritten (--storage-overwrite)"
                            : "existing files with other content are kept and reported (--storage-overwrite to overwrite)")).append('\n');
            for (Journal.ComponentTarget c : of) {
                sb.append("       ").append(c.artifact).append(" (").append(Bytes.human(c.plainBytes)).append(") -> ").append(c.target).append('\n');
            }
            if (kind.equals(ComponentSteps.STORAGE)) {
                sb.append("       then every tenant of the restored database must have privkeys/<tenant_id>/private.pem"
                        + (j.strict ? " (--strict: a missing key fails the restore)" : " (a missing key is a warning; --strict fails)") + "\n");
            }
        }
        for (Journal.ComponentTarget c : j.components) {
            if (c.kind.equals(ComponentSteps.CONFIG)) {
                sb.append(step.apply("restore-config")).append("create the backup's ConfigMaps and Secrets that do not exist in namespace ")
                        .append(j.configNamespace).append("; none is overwritten\n");
                sb.append("       ").append(c.artifact).append(" -> ").append(c.target).append(": ").append(c.detail).append('\n');
            }
        }
        sb.append(step.apply("rewire")).append('\n');
        for (EnvChange c : j.changes) {
            sb.append("       ").append(c.describe()).append('\n');
        }
        sb.append(step.apply("scale-up"));
        sb.append(String.join(", ", j.workloads.stream().map(w -> w.name() + " 0 -> " + w.scaleUpTo()).toList()));
        sb.append("; wait for the rollouts\n");
        sb.append(step.apply("smoke-checks"));
        if (j.smokeChecks.isEmpty()) {
            sb.append("none configured\n");
        } else {
            sb.append('\n');
            j.smokeChecks.forEach(s -> sb.append("       ").append(s).append('\n'));
        }
        sb.append(step.apply("finish")).append("on any failure after scale-down: stop the writers, rewire back, scale back to the\n");
        sb.append("                        recorded replicas, smoke-check the old state. No database is dropped")
                .append(j.components.isEmpty() ? ".\n" : ";\n                        restored Redis keys, files, ConfigMaps and Secrets are not removed.\n");
        if (!j.untouchedWorkloads.isEmpty()) {
            sb.append("Not touched: ").append(String.join(", ", j.untouchedWorkloads)).append('\n');
        }
        comparison(sb);
        warnings(sb);
        sb.append("Run it with the same arguments and --yes instead of --plan.\n");
        return sb.toString();
    }

    private String outcome() {
        Journal j = journal;
        StringBuilder sb = new StringBuilder();
        sb.append("Restore ").append(j.id).append(" of backup ").append(j.backupId).append(": ").append(j.state.text()).append('\n');
        steps(sb, j.steps);
        for (Journal.TargetDatabase d : j.databases) {
            sb.append("  database ").append(d.source).append(" -> ").append(d.target).append(" on ").append(j.targetHost).append(':').append(j.targetPort)
                    .append(d.restored ? " restored" : " not restored").append(d.method == null ? "" : " (" + d.method + ")")
                    .append(Boolean.TRUE.equals(d.validated) ? ", validated" : "").append('\n');
        }
        for (Journal.ComponentTarget c : j.components) {
            sb.append("  ").append(c.kind).append(' ').append(c.name).append(" -> ").append(c.target)
                    .append(c.restored ? ": " + c.detail : ": not restored").append('\n');
        }
        smoke(sb, "smoke", j.smoke);
        if (j.failure != null) {
            sb.append("Failure: ").append(j.failure).append('\n');
        }
        if (!j.rollback.isEmpty()) {
            sb.append("Rollback:\n");
            steps(sb, j.rollback);
            smoke(sb, "smoke (old state)", j.rollbackSmoke);
        }
        if (j.rollbackFailure != null) {
            sb.append("Rollback failure: ").append(j.rollbackFailure).append('\n');
        }
        if (!j.rollback.isEmpty()) {
            List<String> undone = j.rollback.stream().filter(s -> s.status == Journal.StepStatus.COMPLETED).map(s -> s.name).toList();
            sb.append("Undone: ").append(undone.isEmpty() ? "nothing" : String.join(", ", undone)).append('\n');
            if (!j.notUndone.isEmpty()) {
                sb.append("Not undone:\n");
                j.notUndone.forEach(n -> sb.append("  - ").append(n).append('\n'));
            }
        }
        comparison(sb);
        warnings(sb);
        switch (j.state) {
            case COMPLETED -> sb.append("Dify now reads ").append(String.join(", ", j.databases.stream().map(d -> d.target).toList()))
                    .append(". With postgres.databases: fromDify the next backups cover them; a fixed list must name them now. Update DB_DATABASE")
                    .append(" in the Helm values or GitOps source, or the next upgrade points Dify back at the old databases.\n")
                    .append("Undo with: dify-dr restore --rollback ").append(j.id).append('\n');
            case ROLLED_BACK -> sb.append("Dify runs on its old databases again with the recorded replicas. The restored copies were kept: ")
                    .append(String.join(", ", j.databases.stream().filter(d -> d.creating).map(d -> d.target).toList())).append('\n');
            case ROLLBACK_FAILED -> sb.append("Dify needs an operator: fix the cause above, then run: dify-dr restore --rollback ")
                    .append(j.id).append(" (it continues from the failed step)\n");
            default -> sb.append("Continue with: dify-dr restore --resume ").append(j.id).append(", or undo with: dify-dr restore --rollback ")
                    .append(j.id).append('\n');
        }
        sb.append("Journal: ").append(localJournal).append(" and ").append(repositoryJournal).append(" in the repository\n");
        return sb.toString();
    }

    private static void steps(StringBuilder sb, List<Journal.StepRecord> steps) {
        for (Journal.StepRecord s : steps) {
            sb.append(String.format("  %-24s %-9s %8s  %s%n", s.name, s.status.label(), s.seconds == null ? "" : String.format("%.1f s", s.seconds),
                    s.error != null ? s.error : s.detail == null ? "" : s.detail));
        }
    }

    private static void smoke(StringBuilder sb, String title, List<SmokeResult> results) {
        for (SmokeResult r : results) {
            sb.append("  ").append(title).append(' ').append(r.ok() ? "ok  " : "FAIL").append(' ').append(r.name()).append(": ")
                    .append(r.detail()).append(" (").append(r.attempts()).append(" attempts)\n");
        }
    }

    private void comparison(StringBuilder sb) {
        if (!journal.configComparison.isEmpty()) {
            sb.append("Dify's settings now, compared with the backup's (values are never shown):\n");
            journal.configComparison.forEach(c -> sb.append("  ").append(c).append('\n'));
        }
    }

    private void warnings(StringBuilder sb) {
        if (!journal.warnings.isEmpty()) {
            sb.append("Warnings:\n");
            journal.warnings.forEach(w -> sb.append("  - ").append(w).append('\n'));
        }
    }
}
