package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.kube.DatabaseEnv;
import dev.difydr.kube.Workload;
import dev.difydr.kube.WorkloadDiscovery;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records how Dify runs now, into the journal: the Deployments a restore stops with their replicas (what a rollback
 * returns them to), the ones it leaves alone, and the database settings each container reads.
 */
final class WorkloadRecord {
    private final KubernetesClient client;
    private final KubernetesConfig kube;

    WorkloadRecord(KubernetesClient client, KubernetesConfig kube) {
        this.client = client;
        this.kube = kube;
    }

    /** Fills the journal's workloads and returns each stopped Deployment's database settings, as read now. */
    Map<String, List<DatabaseEnv.ContainerSettings>> record(Journal j) {
        List<Workload> found = new WorkloadDiscovery(client, kube).discover();
        Map<String, List<DatabaseEnv.ContainerSettings>> settings = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        j.workloads.clear();
        j.untouchedWorkloads.clear();
        for (Workload w : found.stream().sorted(Comparator.comparing(Workload::role)).toList()) {
            if (!w.scaled()) {
                j.untouchedWorkloads.add(w.name() + " (" + w.role().label() + ")");
                continue;
            }
            List<DatabaseEnv.ContainerSettings> s = w.database();
            if (s.isEmpty()) {
                problems.add("Deployment " + w.name() + " (" + w.role().label() + ") sets no DB_DATABASE, so Dify's default applies and"
                        + " cannot be rewired: add DB_DATABASE to its environment");
            }
            settings.put(w.name(), s);
            int scaleUpTo = j.replicaOverrides.getOrDefault(w.name(), w.replicas());
            j.workloads.add(new Journal.RecordedWorkload(w.name(), w.role().label(), w.replicas(), scaleUpTo));
            if (scaleUpTo == 0) {
                RestoreWorkflow.warn(j, w.name() + " runs 0 replicas now and will be left at 0 after the restore; pass --replicas "
                        + w.name() + "=N to bring it up");
            }
        }
        if (!problems.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, String.join("; ", problems));
        }
        return settings;
    }
}
