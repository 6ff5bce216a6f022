package dev.difydr.kube;

import dev.difydr.DrException;
import dev.difydr.Failure;
import io.fabric8.kubernetes.client.KubernetesClientException;

/** Turns a Kubernetes API error into a failure that says what was attempted and what usually fixes it. */
final class KubeErrors {
    private KubeErrors() {
    }

    static DrException failed(String what, String namespace, KubernetesClientException e) {
        String hint = switch (e.getCode()) {
            case 401 -> ": the credentials were refused (check the kubeconfig or the service account token)";
            // RBAC and admission webhooks both answer 403: the server's own message says which
            case 403 -> ": permission denied (" + serverMessage(e) + "); dify-dr needs " + Permissions.restoreSummary() + " in namespace "
                    + namespace + " (the Role in runbooks/incident-restore.md)";
            case 404 -> ": not found in namespace " + namespace;
            case 409 -> ": it was changed by someone else meanwhile";
            default -> ": " + serverMessage(e);
        };
        return new DrException(Failure.KUBERNETES, "Kubernetes: cannot " + what + hint, e);
    }

    private static String serverMessage(KubernetesClientException e) {
        return e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
    }
}
