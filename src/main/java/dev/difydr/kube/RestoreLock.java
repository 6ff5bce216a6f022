package dev.difydr.kube;

import dev.difydr.DrException;
import dev.difydr.Failure;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.ZonedDateTime;
import java.time.ZoneOffset;

/**
 * One restore at a time per namespace: a Lease named {@value #NAME} whose holder is the restore id. Creating it is
 * atomic on the API server, so two operators cannot both start; the holder itself may take it again (resume,
 * rollback). A restore that ends, completed or rolled back, releases it; one whose rollback failed keeps it, so that
 * nobody starts another restore over a Dify in an unknown state.
 */
public final class RestoreLock {
    static final String NAME = "dify-dr-restore";

    private final KubernetesClient client;
    private final String namespace;

    public RestoreLock(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    public void acquire(String restoreId) {
        var leases = client.leases().inNamespace(namespace);
        try {
            Lease held = leases.withName(NAME).get();
            if (held != null) {
                String holder = held.getSpec() == null ? null : held.getSpec().getHolderIdentity();
                if (restoreId.equals(holder)) {
                    return;
                }
                throw held(holder, held);
            }
            leases.resource(new LeaseBuilder().withNewMetadata().withName(NAME).withNamespace(namespace).endMetadata()
                    .withNewSpec().withHolderIdentity(restoreId).withAcquireTime(ZonedDateTime.now(ZoneOffset.UTC)).endSpec().build()).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                Lease now = leases.withName(NAME).get();
                throw held(now == null || now.getSpec() == null ? "another restore" : now.getSpec().getHolderIdentity(), now);
            }
            throw KubeErrors.failed("take the restore lock (Lease " + NAME + ")", namespace, e);
        }
    }

    private DrException held(String holder, Lease lease) {
        String since = lease == null || lease.getSpec() == null || lease.getSpec().getAcquireTime() == null ? "" : " since " + lease.getSpec().getAcquireTime();
        return new DrException(Failure.LOCK, "restore " + holder + " holds the restore lock in namespace " + namespace + since
                + ": finish it with 'dify-dr restore --resume " + holder + "' or undo it with 'dify-dr restore --rollback " + holder
                + "'; if it is known to be dead and Dify is healthy, release it with 'kubectl -n " + namespace + " delete lease " + NAME + "'");
    }

    /** Fails when another restore holds the lock; for preflight, which must not take it. */
    public void checkFree() {
        try {
            Lease held = client.leases().inNamespace(namespace).withName(NAME).get();
            if (held != null) {
                throw held(held.getSpec() == null ? "another restore" : held.getSpec().getHolderIdentity(), held);
            }
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed("read the restore lock (Lease " + NAME + ")", namespace, e);
        }
    }

    /** Releases the lock if this restore holds it. */
    public void release(String restoreId) {
        try {
            Lease held = client.leases().inNamespace(namespace).withName(NAME).get();
            if (held != null && held.getSpec() != null && restoreId.equals(held.getSpec().getHolderIdentity())) {
                client.leases().inNamespace(namespace).withName(NAME).delete();
            }
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed("release the restore lock (Lease " + NAME + ")", namespace, e);
        }
    }
}
