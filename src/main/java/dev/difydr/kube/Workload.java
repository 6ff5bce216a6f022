package dev.difydr.kube;

import java.util.List;

/**
 * A Dify Deployment as found in the cluster: its name, its part in Dify, its current replicas, and the database
 * settings of each of its containers that reads {@code DB_DATABASE} (empty when none does).
 */
public record Workload(String name, Role role, int replicas, List<DatabaseEnv.ContainerSettings> database) {

    /** Stopped during a restore: Dify's writers, and anything else that reads the database settings. */
    public boolean scaled() {
        return role.writer() || !database.isEmpty();
    }
}
