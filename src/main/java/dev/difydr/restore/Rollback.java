package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.kube.EnvChange;
import dev.difydr.kube.Rewiring;
import dev.difydr.kube.Role;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts Dify back on the databases and replicas recorded before a restore, as far as the cluster allows. Every action is
 * attempted even when an earlier one failed: stop the writers, put every value back, bring each writer back to its
 * recorded replicas, smoke-check the old state. A writer is held at 0 only when a value it reads could not be put
 * back, so that no Deployment runs on a mix of old and restored databases. A restart annotation that cannot be
 * written does not matter once the writers were stopped: pods started by the scale-up read the old values anyway.
 * Dify is back (rolled back) when every value is old, every writer is at its recorded replicas and the old state
 * passes its smoke checks; anything less is a failed rollback, with what was not undone listed.
 */
final class Rollback {
    private static final Logger log = LoggerFactory.getLogger(Rollback.class);
    static final String SCALE_DOWN = "rollback-scale-down";
    static final String REWIRE_BACK = "rewire-back";
    static final String SCALE_BACK_UP = "scale-back-up";
    static final String SMOKE = "smoke-checks-old-state";

    private final Rewiring rewiring;
    private final Scaling scaling;
    private final SmokeStep smoke;

    Rollback(Rewiring rewiring, Scaling scaling, SmokeStep smoke) {
        this.rewiring = rewiring;
        this.scaling = scaling;
        this.smoke = smoke;
    }

    /** Runs the rollback into the journal's rollback steps; sets its state to ROLLED_BACK or ROLLBACK_FAILED. */
    void run(Journal j, Steps steps) {
        j.rollbackFailure = null;
        j.notUndone.clear();
        List<String> conflicts;
        try {
            conflicts = rewiring.conflicts(j.changes);
        } catch (DrException e) {
            fail(j, "cannot read the values to put back: " + e.getMessage());
            return;
        }
        if (!conflicts.isEmpty()) {
            fail(j, "nothing was rolled back, Dify was left running as it is: " + String.join("; ", conflicts));
            return;
        }
        steps.redoFromFirstUnfinished();
        boolean stopped = steps.attempt(SCALE_DOWN, () -> scaling.stop(j));
        steps.attempt(REWIRE_BACK, () -> rewireBack(j, stopped));
        Set<String> held = heldBack(j);
        steps.attempt(SCALE_BACK_UP, () -> scaling.start(j, false, held));
        boolean apiRan = j.workloads.stream().anyMatch(w -> w.role().equals(Role.API.label()) && w.replicas() > 0);
        steps.attempt(SMOKE, () -> apiRan ? smoke.run(j.rollbackSmoke)
                : "skipped: Dify's api ran no replicas before the restore, so there is nothing to check");
        for (Journal.StepRecord s : j.rollback) {
            // A scale-down that failed is harmless when the rewire-back then restarted every Deployment it changed
            if (s.status != Journal.StepStatus.COMPLETED && !(s.name.equals(SCALE_DOWN) && completed(j, REWIRE_BACK))) {
                j.notUndone.add(s.name + ": " + s.error);
            }
        }
        if (j.notUndone.isEmpty()) {
            j.state = Journal.State.ROLLED_BACK;
        } else {
            fail(j, String.join("; ", j.notUndone));
        }
    }

    /**
     * Puts every value back and restarts the Deployments that read them. Values that stay new fail the step; restarts
     * that fail only matter if the writers could not be stopped, since then pods started before may still run.
     */
    private String rewireBack(Journal j, boolean stopped) {
        Rewiring.Result r = rewiring.apply(j.changes, false);
        if (!r.valueFailures().isEmpty() || !stopped && !r.restartFailures().isEmpty()) {
            throw new DrException(Failure.KUBERNETES, r.describe());
        }
        if (!r.restartFailures().isEmpty()) {
            RestoreWorkflow.warn(j, "the restart annotation could not be written (" + String.join("; ", r.restartFailures())
                    + "); the writers were stopped, so the pods the rollback starts read the old values anyway");
        }
        return "put back: " + r.describe();
    }

    private static boolean completed(Journal j, String step) {
        return j.rollback.stream().anyMatch(s -> s.name.equals(step) && s.status == Journal.StepStatus.COMPLETED);
    }

    /** Writers that read a value which is not back at its old value: bringing them up would mix databases. */
    private Set<String> heldBack(Journal j) {
        Set<String> held = new LinkedHashSet<>();
        for (EnvChange c : j.changes) {
            try {
                if (!rewiring.holds(c, c.oldValue())) {
                    held.addAll(c.deployments());
                }
            } catch (DrException e) {
                held.addAll(c.deployments());
            }
        }
        return held;
    }

    private static void fail(Journal j, String why) {
        j.rollbackFailure = why;
        j.state = Journal.State.ROLLBACK_FAILED;
        log.error("rollback of restore {} failed: {}", j.id, why);
    }
}
