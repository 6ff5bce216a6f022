package dev.difydr.backup;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.kube.ClusterClient;
import dev.difydr.kube.ConfigSnapshot;
import dev.difydr.kube.DatabaseEnv;
import dev.difydr.kube.Workload;
import dev.difydr.kube.WorkloadDiscovery;
import dev.difydr.repository.KubernetesFacts;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;

/**
 * Dify's own configuration ({@link ConfigSnapshot}: the ConfigMaps and Secrets its Deployments reference, and their
 * env) as one {@code kubernetes/resources.json.zst.enc}. It holds secrets, so it is stored only encrypted: without a
 * keyring it is skipped with that reason in the manifest, or refused before anything is stored when {@code --only}
 * names it. Included by default it is optional (a Kubernetes API that cannot be read is recorded, not fatal).
 */
final class KubernetesBackup implements BackupComponent {
    static final String KIND = "kubernetes";
    static final String NAME = "resources";
    static final String NOT_ENCRYPTED = "Dify's configuration holds secrets (SECRET_KEY, passwords) and is stored only encrypted:"
            + " set encryption.keyset";

    private final KubernetesConfig config;
    private final boolean encrypted;
    private final boolean asked;
    private KubernetesClient client;

    /** {@code asked}: named by {@code --only}, which makes it required. */
    KubernetesBackup(KubernetesConfig config, boolean encrypted, boolean asked) {
        this.config = config;
        this.encrypted = encrypted;
        this.asked = asked;
    }

    @Override
    public String component() {
        return KIND;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean optional() {
        return !asked;
    }

    @Override
    public String preflight() {
        if (!encrypted) {
            if (asked) {
                throw new DrException(Failure.CONFIG, "backup --only kubernetes refused: " + NOT_ENCRYPTED);
            }
            return "not backed up: " + NOT_ENCRYPTED;
        }
        client = ClusterClient.connect(config);
        try {
            List<Workload> found = new WorkloadDiscovery(client, config, List.of(DatabaseEnv.DATABASE)).discover();
            return "namespace " + config.namespace() + ": the configuration of " + found.size() + " Deployments readable";
        } catch (KubernetesClientException e) {
            throw new DrException(Failure.KUBERNETES, "cannot read Dify's Deployments in namespace " + config.namespace() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public KubernetesFacts backup(BackupContext context) {
        if (!encrypted || !context.encrypts()) {
            if (asked) {
                throw new DrException(Failure.CONFIG, "backup --only kubernetes refused: " + NOT_ENCRYPTED);
            }
            context.skip(KIND, NAME, NOT_ENCRYPTED);
            return null;
        }
        ConfigSnapshot snapshot = ConfigSnapshot.collect(client, config);
        KubernetesFacts facts = snapshot.facts();
        facts.missing().stream().filter(m -> !m.optional())
                .forEach(m -> context.warn("Kubernetes: " + m.describe() + " does not exist in namespace " + config.namespace()
                        + ": pods that need it cannot start; it is not in the backup"));
        context.store(NAME, KIND, context.layout().kubernetesResources(context.id()), snapshot::writeTo);
        return facts;
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
