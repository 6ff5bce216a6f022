package dev.difydr.kube;

import dev.difydr.config.KubernetesConfig;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * A client for the cluster Dify runs in: the in-cluster service account, else the kubeconfig (KUBECONFIG,
 * ~/.kube/config) or KUBERNETES_MASTER. Requests time out; nothing waits on the client's own defaults.
 */
public final class ClusterClient {
    private ClusterClient() {
    }

    public static KubernetesClient connect(KubernetesConfig kubernetes) {
        return connect(kubernetes.namespace());
    }

    /** A client whose default namespace is {@code namespace}. */
    public static KubernetesClient connect(String namespace) {
        Config k = new ConfigBuilder(Config.autoConfigure(null))
                .withNamespace(namespace)
                .withRequestTimeout(30_000)
                .withConnectionTimeout(10_000)
                .withRequestRetryBackoffLimit(3)
                .build();
        if (k.getMasterUrl() != null && k.getMasterUrl().startsWith("http://")) {
            // Over plain HTTP (kubectl proxy) the JDK client would try an h2c upgrade, which some servers leave unanswered;
            // over TLS HTTP/2 is negotiated by ALPN.
            k.setHttp2Disable(true);
        }
        return new KubernetesClientBuilder().withConfig(k).build();
    }
}
