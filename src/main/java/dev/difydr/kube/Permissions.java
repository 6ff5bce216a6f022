package dev.difydr.kube;

import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks the API server (SelfSubjectAccessReview) whether dify-dr may do everything a restore and its rollback do, so
 * that a missing permission stops the preflight instead of a rewire halfway through the night.
 */
public final class Permissions {
    /** group, resource, verb — what a restore and its rollback need in Dify's namespace. */
    private static final String[][] RESTORE = {
            {"apps", "deployments", "get"}, {"apps", "deployments", "list"}, {"apps", "deployments", "patch"},
            {"", "pods", "list"}, {"", "configmaps", "get"}, {"", "configmaps", "patch"},
            {"", "secrets", "get"}, {"", "secrets", "patch"},
            {"coordination.k8s.io", "leases", "get"}, {"coordination.k8s.io", "leases", "create"}, {"coordination.k8s.io", "leases", "delete"}};

    private final KubernetesClient client;
    private final String namespace;

    public Permissions(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** The permissions the server says are missing, as "verb resource"; an unanswered review counts as granted. */
    public List<String> missingForRestore() {
        return missing(RESTORE);
    }

    /** Of the given {group, resource[/subresource], verb} permissions, those the server says are missing. */
    public List<String> missing(String[]... permissions) {
        List<String> missing = new ArrayList<>();
        for (String[] p : permissions) {
            String[] resource = p[1].split("/", 2);
            SelfSubjectAccessReview review = new SelfSubjectAccessReviewBuilder().withNewSpec().withNewResourceAttributes()
                    .withNamespace(namespace).withGroup(p[0]).withResource(resource[0]).withSubresource(resource.length > 1 ? resource[1] : null)
                    .withVerb(p[2]).endResourceAttributes().endSpec().build();
            try {
                SelfSubjectAccessReview answer = client.authorization().v1().selfSubjectAccessReview().create(review);
                if (answer.getStatus() != null && Boolean.FALSE.equals(answer.getStatus().getAllowed())) {
                    missing.add(p[2] + " " + (p[0].isEmpty() ? "" : p[0] + "/") + p[1]);
                }
            } catch (KubernetesClientException e) {
                // A server that cannot review access still enforces it; the first refused call will say so.
                org.slf4j.LoggerFactory.getLogger(Permissions.class).warn(
                        "cannot ask the API server which permissions dify-dr has ({}); a missing one will show when it is used", e.getMessage());
                return missing;
            }
        }
        return missing;
    }
}
