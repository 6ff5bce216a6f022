package dev.difydr.kube;

import dev.difydr.DrException;
import dev.difydr.Failure;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scales Deployments and waits for them with predicates and deadlines of our own: never the client's default wait,
 * which on a stuck rollout blocks for ten minutes or forever.
 */
public final class Rollouts {
    private static final Logger log = LoggerFactory.getLogger(Rollouts.class);

    private final KubernetesClient client;
    private final String namespace;
    private final Duration poll;

    public Rollouts(KubernetesClient client, String namespace, Duration poll) {
        this.client = client;
        this.namespace = namespace;
        this.poll = poll;
    }

    public void scale(String name, int replicas) {
        try {
            new JsonPatch().add("/spec/replicas", replicas).applyTo(client.apps().deployments().inNamespace(namespace).withName(name));
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed("scale Deployment " + name + " to " + replicas, namespace, e);
        }
    }

    /** Waits until every named Deployment has no pods left. */
    public void awaitStopped(List<String> names, Duration timeout) {
        Map<String, Integer> none = new java.util.LinkedHashMap<>();
        names.forEach(n -> none.put(n, 0));
        await("stop", none, timeout);
    }

    /** Waits until every Deployment runs exactly its wanted number of ready, up-to-date pods. */
    public void awaitReady(Map<String, Integer> wanted, Duration timeout) {
        await("become ready", wanted, timeout);
    }

    private void await(String what, Map<String, Integer> wanted, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long nextLog = System.nanoTime();
        while (true) {
            List<String> pending = new ArrayList<>();
            for (Map.Entry<String, Integer> e : wanted.entrySet()) {
                String state = pendingState(e.getKey(), e.getValue());
                if (state != null) {
                    pending.add(e.getKey() + " (" + state + ")");
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new DrException(Failure.KUBERNETES, "Deployments did not " + what + " within " + timeout.toSeconds() + " s: "
                        + String.join("; ", pending) + " (see 'kubectl -n " + namespace + " describe deployment' and the pods' events)");
            }
            if (System.nanoTime() - nextLog >= 0) {
                log.info("waiting for Deployments to {}: {}", what, String.join("; ", pending));
                nextLog = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            }
            try {
                Thread.sleep(poll.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DrException(Failure.KUBERNETES, "interrupted while waiting for Deployments to " + what);
            }
        }
    }

    /** Null when the Deployment is where it should be; otherwise what it is doing instead. */
    private String pendingState(String name, int want) {
        Deployment d = Deployments.require(client, namespace, name);
        DeploymentStatus s = d.getStatus() == null ? new DeploymentStatus() : d.getStatus();
        int replicas = n(s.getReplicas());
        if (want == 0) {
            int pods = pods(d);
            return replicas == 0 && pods == 0 ? null : pods + " pods still running";
        }
        for (DeploymentCondition c : s.getConditions() == null ? List.<DeploymentCondition>of() : s.getConditions()) {
            if ("Progressing".equals(c.getType()) && "False".equals(c.getStatus()) && "ProgressDeadlineExceeded".equals(c.getReason())) {
                throw new DrException(Failure.KUBERNETES, "Deployment " + name + " exceeded its progress deadline: "
                        + Objects.toString(c.getMessage(), "pods do not become ready"));
            }
        }
        // An autoscaler may have changed the count since it was set: the Deployment's own spec is what it rolls out.
        int target = d.getSpec().getReplicas() == null ? want : d.getSpec().getReplicas();
        Long generation = d.getMetadata().getGeneration();
        boolean observed = generation == null || s.getObservedGeneration() != null && s.getObservedGeneration() >= generation;
        if (observed && n(s.getUpdatedReplicas()) == target && n(s.getReadyReplicas()) >= target
                && n(s.getAvailableReplicas()) >= target && replicas == target) {
            return null;
        }
        return n(s.getReadyReplicas()) + "/" + target + " ready, " + n(s.getUpdatedReplicas()) + " updated, " + replicas + " total";
    }

    private int pods(Deployment d) {
        var selector = d.getSpec().getSelector();
        if (selector == null || selector.getMatchLabels() == null) {
            return 0;
        }
        try {
            return client.pods().inNamespace(namespace).withLabels(selector.getMatchLabels()).list().getItems().size();
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed("list pods of Deployment " + d.getMetadata().getName(), namespace, e);
        }
    }

    private static int n(Integer i) {
        return i == null ? 0 : i;
    }
}
