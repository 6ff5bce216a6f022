package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.StorageConfig;
import dev.difydr.kube.Permissions;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A storage restored into a pod needs that pod running while the restore writes it; the writers are stopped by then,
 * so a pod of one of them would be gone. Refused in preflight, before anything stops, with what to do instead.
 */
final class PodTargetCheck {
    private PodTargetCheck() {
    }

    static void check(Journal j, ComponentSteps.Targets targets, KubernetesClient client, String namespace) {
        for (Journal.ComponentTarget c : j.components) {
            StorageConfig t = c.kind.equals(ComponentSteps.STORAGE) ? targets.storage(c.name) : null;
            if (t == null || t.pod() == null) {
                continue;
            }
            String ns = t.pod().namespace() != null ? t.pod().namespace() : namespace;
            if (!ns.equals(namespace)) {
                continue;
            }
            List<String> missing = new Permissions(client, ns).missing(Permissions.POD_STORAGE.toArray(Permissions.Rule[]::new));
            if (!missing.isEmpty()) {
                throw new DrException(Failure.KUBERNETES, "restoring storage '" + c.name + "' into a pod needs permission to "
                        + String.join(", ", missing) + " in namespace " + ns);
            }
            Map<String, Map<String, String>> stopped = new LinkedHashMap<>();
            for (Journal.RecordedWorkload w : j.workloads) {
                var d = client.apps().deployments().inNamespace(ns).withName(w.name()).get();
                if (d != null && d.getSpec().getSelector() != null && d.getSpec().getSelector().getMatchLabels() != null) {
                    stopped.put(w.name(), d.getSpec().getSelector().getMatchLabels());
                }
            }
            for (var pod : client.pods().inNamespace(ns).withLabelSelector(t.pod().selector()).list().getItems()) {
                Map<String, String> labels = pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
                for (Map.Entry<String, Map<String, String>> w : stopped.entrySet()) {
                    if (!w.getValue().isEmpty() && labels.entrySet().containsAll(w.getValue().entrySet())) {
                        throw new DrException(Failure.USAGE, "storage '" + c.name + "' would be restored into pod " + pod.getMetadata().getName()
                                + " of Deployment " + w.getKey() + ", which this restore stops before it restores storage: mount that volume"
                                + " where dify-dr runs and name it in restore.storage (path), or restore the storage by hand"
                                + " (runbooks/incident-restore.md)");
                    }
                }
            }
        }
    }
}
