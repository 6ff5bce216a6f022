package dev.difydr.config;

import java.util.List;

/**
 * Where Dify runs on Kubernetes. Workloads are found by the Helm release's labels ({@code release}), or listed
 * explicitly ({@code workloads}) for plain manifests. Timeouts bound every wait of the restore workflow.
 */
public record KubernetesConfig(
        String namespace,
        String release,
        List<WorkloadSpec> workloads,
        Integer scaleDownTimeoutSeconds,
        Integer rolloutTimeoutSeconds,
        Double pollSeconds) {

    public KubernetesConfig {
        namespace = namespace == null ? "dify" : namespace;
        workloads = workloads == null ? List.of() : List.copyOf(workloads);
        scaleDownTimeoutSeconds = scaleDownTimeoutSeconds == null ? 300 : scaleDownTimeoutSeconds;
        rolloutTimeoutSeconds = rolloutTimeoutSeconds == null ? 600 : rolloutTimeoutSeconds;
        pollSeconds = pollSeconds == null ? 2.0 : pollSeconds;
    }

    /** One Deployment named explicitly, with the part it plays in Dify (api, worker, beat, plugin-daemon, web, sandbox, other). */
    public record WorkloadSpec(String name, String role) {
    }
}
