package dev.difydr.kube;

/** A Dify Deployment as found in the cluster: its name, its part in Dify, its current replicas. */
public record Workload(String name, Role role, int replicas, boolean readsDatabase) {

    /** Stopped during a restore: Dify's writers, and anything else that reads the database settings. */
    public boolean scaled() {
        return role.writer() || readsDatabase;
    }
}
