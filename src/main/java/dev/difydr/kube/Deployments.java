package dev.difydr.kube;

import dev.difydr.DrException;
import dev.difydr.Failure;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/** Reads a Deployment that must exist: one that has gone is a failure that names it. */
final class Deployments {
    private Deployments() {
    }

    static Deployment require(KubernetesClient client, String namespace, String name) {
        Deployment d;
        try {
            d = client.apps().deployments().inNamespace(namespace).withName(name).get();
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed("read Deployment " + name, namespace, e);
        }
        if (d == null) {
            throw new DrException(Failure.KUBERNETES, "Deployment " + name + " is gone from namespace " + namespace);
        }
        return d;
    }
}
