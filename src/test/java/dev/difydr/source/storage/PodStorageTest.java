package dev.difydr.source.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.kube.Permissions;
import dev.difydr.testsupport.Rbac;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodListBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.server.mock.OutputStreamMessage;
import io.fabric8.kubernetes.client.server.mock.StatusStreamMessage;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pod source against the fabric8 mock API server in expectation mode (CRUD mode has no exec): the pod lookup, the
 * exec request, the stream re-written into dify-dr's tar and the exit status on the error channel. The mock's output
 * message carries a String, so the pod's archive here holds ASCII bytes only.
 */
class PodStorageTest {
    private static final String EXEC = "/api/v1/namespaces/dify/pods/api-1/exec?command=tar&command=-cf&command=-&command=-C"
            + "&command=%2Fapp%2Fapi%2Fstorage&command=.&container=api&stdout=true&stderr=true";

    private KubernetesMockServer server;
    private KubernetesClient client;

    @BeforeEach
    void start() {
        server = new KubernetesMockServer(false);
        server.init();
        client = server.createClient();
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    @Test
    void theFirstRunningPodIsChosen() {
        pods(pod("api-2", "Running"), pod("api-0", "Pending"), pod("api-1", "Running"));
        assertThat(storage().runningPod()).isEqualTo("api-1");
        assertThat(storage().backupCommand()).containsExactly("tar", "-cf", "-", "-C", "/app/api/storage", ".");
        assertThat(storage().restoreCommand(false)).contains("--skip-old-files").doesNotContain("--overwrite");
    }

    @Test
    void noRunningPodIsASourceFailure() {
        pods(pod("api-0", "Pending"));
        DrException e = catchThrowableOfType(DrException.class, () -> storage().preflight());
        assertThat(e.failure()).isEqualTo(Failure.SOURCE);
        assertThat(e.getMessage()).contains("no Running pod matches 'app=api'").contains("1 pods match in other phases");
    }

    @Test
    void thePodsTarIsRewrittenAndCounted() throws IOException {
        pods(pod("api-1", "Running"));
        byte[] podTar = podTar();
        server.expect().get().withPath(EXEC).andUpgradeToWebSocket().open()
                .waitFor(50).andEmit(new OutputStreamMessage(new String(podTar, StandardCharsets.ISO_8859_1)))
                .waitFor(100).andEmit(new StatusStreamMessage(0))
                .done().once();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarStats stats = storage().writeTar(out);
        assertThat(stats.files()).isEqualTo(2);
        assertThat(stats.directories()).isEqualTo(2);
        assertThat(stats.tenantsWithPrivkeys()).isEqualTo(1);
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(out.toByteArray()))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                names.add(e.getName());
            }
        }
        assertThat(names).containsExactly("privkeys/", "privkeys/t1/", "privkeys/t1/private.pem", "notes.txt");
    }

    @Test
    void everyCallOfABackupFromAPodIsOneTheChartsRoleGrantsWithPodStorage() throws Exception {
        pods(pod("api-1", "Running"));
        server.expect().get().withPath(EXEC).andUpgradeToWebSocket().open()
                .waitFor(50).andEmit(new OutputStreamMessage(new String(emptyTar(), StandardCharsets.ISO_8859_1)))
                .waitFor(100).andEmit(new StatusStreamMessage(0))
                .done().once();
        storage().preflight();
        storage().writeTar(new ByteArrayOutputStream());

        List<PolicyRule> role = Rbac.policyRules(Permissions.RULES);
        List<String> checks = new ArrayList<>();
        for (int i = server.getRequestCount(); i > 0; i--) {
            RecordedRequest request = server.takeRequest(1, TimeUnit.SECONDS);
            Rbac.Request attributes = Rbac.of(request.getMethod(), request.getPath());
            checks.addAll(attributes.checks());
            assertThat(Rbac.allows(role, attributes)).as("%s %s needs %s", request.getMethod(), request.getPath(), attributes.checks()).isTrue();
        }
        assertThat(checks).contains("list pods", "get pods", "get pods/exec", "create pods/exec");
        List<PolicyRule> withoutPodStorage = Rbac.policyRules(Permissions.RULES.stream().filter(r -> !Permissions.POD_STORAGE.contains(r)).toList());
        assertThat(Rbac.allows(withoutPodStorage, Rbac.of("GET", EXEC))).isFalse();
    }

    @Test
    void aFailingTarFailsTheBackup() {
        pods(pod("api-1", "Running"));
        server.expect().get().withPath(EXEC).andUpgradeToWebSocket().open()
                .waitFor(50).andEmit(new OutputStreamMessage(new String(emptyTar(), StandardCharsets.ISO_8859_1)))
                .waitFor(100).andEmit(new StatusStreamMessage(2))
                .done().once();
        DrException e = catchThrowableOfType(DrException.class, () -> storage().writeTar(new ByteArrayOutputStream()));
        assertThat(e).isNotNull();
        assertThat(e.failure()).isEqualTo(Failure.SOURCE);
        assertThat(e.getMessage()).contains("tar exited with code 2");
    }

    private PodStorage storage() {
        return new PodStorage(client, "dify", "app=api", "api", "/app/api/storage");
    }

    private void pods(Pod... pods) {
        server.expect().get().withPath("/api/v1/namespaces/dify/pods?labelSelector=app%3Dapi")
                .andReturn(200, new PodListBuilder().withItems(pods).build()).always();
        for (Pod p : pods) {
            // the client reads the pod before an exec, to wait until it is ready
            server.expect().get().withPath("/api/v1/namespaces/dify/pods/" + p.getMetadata().getName()).andReturn(200, p).always();
            // and waits for it to be ready with an informer: a list of it, then a watch unless the list shows it ready
            server.expect().get().withPath("/api/v1/namespaces/dify/pods?fieldSelector=metadata.name%3D" + p.getMetadata().getName())
                    .andReturn(200, new PodListBuilder().withNewMetadata().withResourceVersion("1").endMetadata().withItems(p).build()).always();
        }
    }

    private static Pod pod(String name, String phase) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace("dify").addToLabels("app", "api").endMetadata()
                .withNewSpec().addNewContainer().withName("api").endContainer().endSpec()
                .withNewStatus().withPhase(phase)
                .addNewCondition().withType("Ready").withStatus("Running".equals(phase) ? "True" : "False").endCondition()
                .addNewContainerStatus().withName("api").withReady("Running".equals(phase)).endContainerStatus()
                .endStatus().build();
    }

    /** What GNU tar in the pod writes: {@code ./} names, the root entry. */
    private static byte[] podTar() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
            for (String d : List.of("./", "./privkeys/", "./privkeys/t1/")) {
                TarArchiveEntry e = new TarArchiveEntry(d, TarConstants.LF_DIR, true);
                t.putArchiveEntry(e);
                t.closeArchiveEntry();
            }
            for (String[] f : new String[][] {{"./privkeys/t1/private.pem", "KEY"}, {"./notes.txt", "notes"}}) {
                TarArchiveEntry e = new TarArchiveEntry(f[0], TarConstants.LF_NORMAL, true);
                e.setSize(f[1].length());
                t.putArchiveEntry(e);
                t.write(f[1].getBytes(StandardCharsets.US_ASCII));
                t.closeArchiveEntry();
            }
            t.finish();
        }
        return out.toByteArray();
    }

    private static byte[] emptyTar() {
        return new byte[1024];
    }
}
