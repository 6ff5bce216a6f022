package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.kube.Rollouts;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The scale-down and scale-up steps: the writers to 0 and back, each waited for with the configured deadline. */
final class Scaling {
    private final Rollouts rollouts;
    private final KubernetesConfig kube;

    Scaling(KubernetesClient client, KubernetesConfig kube) {
        this.rollouts = new Rollouts(client, kube.namespace(), Duration.ofMillis((long) (kube.pollSeconds() * 1000)));
        this.kube = kube;
    }

    /** Every writer to 0; waits until their pods are gone. */
    String stop(Journal j) {
        for (Journal.RecordedWorkload w : j.workloads) {
            rollouts.scale(w.name(), 0);
        }
        List<String> names = j.workloads.stream().map(Journal.RecordedWorkload::name).toList();
        rollouts.awaitStopped(names, Duration.ofSeconds(kube.scaleDownTimeoutSeconds()));
        return "stopped " + String.join(", ", names);
    }

    /**
     * Scales the writers up, the plugin daemon first: to {@code scaleUpTo} after a restore, to the recorded replicas in
     * a rollback. Deployments in {@code held} stay at 0 (they would read a mix of old and new databases) and fail the
     * step after the others have been brought up.
     */
    String start(Journal j, boolean restored, Set<String> held) {
        Map<String, Integer> wanted = new LinkedHashMap<>();
        List<Journal.RecordedWorkload> pluginDaemonFirst = new ArrayList<>(j.workloads);
        Collections.reverse(pluginDaemonFirst);
        for (Journal.RecordedWorkload w : pluginDaemonFirst) {
            if (!held.contains(w.name())) {
                int replicas = restored ? w.scaleUpTo() : w.replicas();
                rollouts.scale(w.name(), replicas);
                wanted.put(w.name(), replicas);
            }
        }
        rollouts.awaitReady(wanted, Duration.ofSeconds(kube.rolloutTimeoutSeconds()));
        String done = wanted.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
        if (!held.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, "kept at 0 replicas, since they would read a mix of old and restored databases: "
                    + String.join(", ", held) + (done.isEmpty() ? "" : " (brought up: " + done + ")"));
        }
        return done;
    }
}
