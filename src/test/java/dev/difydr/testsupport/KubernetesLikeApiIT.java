package dev.difydr.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.RollableScalableResource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The test API server stores and patches objects as kube-apiserver does. Objects are read back as raw JSON: fabric8's
 * model shows an absent map and an empty one alike.
 */
class KubernetesLikeApiIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String DEPLOYMENTS = "/apis/apps/v1/namespaces/dify/deployments/";
    private static final String RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";
    private static final String REJECTED = "the server rejected our request due to an error in our request";

    private KubeCluster k;
    private KubernetesClient client;

    @BeforeEach
    void start() {
        k = KubeCluster.start();
        k.controller().pause();
        client = k.client();
    }

    @AfterEach
    void stop() {
        k.close();
    }

    @Test
    void nullsEmptyListsAndEmptyMapsAreNotStoredButEmptyStructsAre() {
        send("POST", "/apis/apps/v1/namespaces/dify/deployments", "application/json", """
                {"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": "raw", "annotations": {}, "labels": {"app": "raw"}, "finalizers": []},
                 "spec": {"selector": {"matchLabels": {"app": "raw"}}, "paused": null,
                   "template": {"metadata": {"labels": {"app": "raw"}, "annotations": {}},
                     "spec": {"nodeSelector": {}, "volumes": [{"name": "tmp", "emptyDir": {}}],
                       "containers": [{"name": "c", "image": "busybox", "args": [],
                         "env": [{"name": "EMPTY", "value": ""}, {"name": "SET", "value": "x"}],
                         "resources": {"limits": {}, "requests": {}},
                         "volumeMounts": [{"name": "tmp", "mountPath": "/tmp", "subPath": null}]}]}}},
                 "status": {"replicas": 5}}
                """);
        send("POST", "/api/v1/namespaces/dify/configmaps", "application/json", """
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "raw"}, "data": {}, "binaryData": {}}
                """);

        JsonNode d = raw(DEPLOYMENTS + "raw");
        assertThat(d.get("metadata").has("annotations")).isFalse();
        assertThat(d.get("metadata").has("finalizers")).isFalse();
        assertThat(d.get("metadata").get("generation").asLong()).isEqualTo(1);
        assertThat(d.get("spec").has("paused")).isFalse();
        assertThat(d.get("spec").get("replicas").asInt()).as("defaulted").isEqualTo(1);
        JsonNode template = d.get("spec").get("template");
        assertThat(template.get("metadata").has("annotations")).isFalse();
        assertThat(template.get("spec").has("nodeSelector")).isFalse();
        JsonNode container = template.get("spec").get("containers").get(0);
        assertThat(container.has("args")).isFalse();
        assertThat(container.get("env").get(0).toString()).isEqualTo("{\"name\":\"EMPTY\"}");
        assertThat(container.get("env").get(1).get("value").asText()).isEqualTo("x");
        assertThat(container.get("resources").toString()).isEqualTo("{}");
        assertThat(container.get("volumeMounts").get(0).has("subPath")).isFalse();
        assertThat(template.get("spec").get("volumes").get(0).get("emptyDir").toString()).isEqualTo("{}");
        assertThat(d.get("status").toString()).as("status is reset on create").isEqualTo("{}");
        JsonNode cm = raw("/api/v1/namespaces/dify/configmaps/raw");
        assertThat(cm.has("data")).isFalse();
        assertThat(cm.has("binaryData")).isFalse();
    }

    @Test
    void aPatchThatEmptiesAMapLeavesNoKey() {
        create("emptied", Map.of("only", "1"));
        client.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("emptied").addToLabels("app", "x")
                .endMetadata().addToData("k", "v").build()).create();

        jsonPatch("emptied", "[{\"op\": \"remove\", \"path\": \"/spec/template/metadata/annotations/only\"}]");
        client.configMaps().withName("emptied").patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\": {\"labels\": {\"app\": null}}, \"data\": {\"k\": null}}");

        assertThat(raw(DEPLOYMENTS + "emptied").get("spec").get("template").get("metadata").has("annotations")).isFalse();
        JsonNode cm = raw("/api/v1/namespaces/dify/configmaps/emptied");
        assertThat(cm.get("metadata").has("labels")).isFalse();
        assertThat(cm.has("data")).isFalse();
    }

    @Test
    void addUnderAMissingParentIsRefusedWith422AndStoresNothing() {
        create("bare", Map.of());
        JsonNode before = raw(DEPLOYMENTS + "bare");

        assertRefused(() -> jsonPatch("bare", "[{\"op\": \"add\", \"path\": \"/spec/template/metadata/annotations/"
                + RESTARTED_AT.replace("/", "~1") + "\", \"value\": \"now\"}]"), "parent of node to add does not exist");
        assertRefused(() -> jsonPatch("bare", "[{\"op\": \"replace\", \"path\": \"/spec/replicas\", \"value\": 4},"
                + " {\"op\": \"add\", \"path\": \"/metadata/annotations/a\", \"value\": \"b\"}]"), "parent of node to add does not exist");

        assertThat(raw(DEPLOYMENTS + "bare")).as("nothing stored, not even the first operation").isEqualTo(before);
        jsonPatch("bare", "[{\"op\": \"add\", \"path\": \"/spec/template/metadata/annotations\", \"value\": {\"" + RESTARTED_AT + "\": \"now\"}}]");
        assertThat(raw(DEPLOYMENTS + "bare").get("spec").get("template").get("metadata").get("annotations").get(RESTARTED_AT).asText())
                .isEqualTo("now");
    }

    @Test
    void testComparesTypeAndValue() {
        create("tested", Map.of());
        String env = "/spec/template/spec/containers/0/env/0";

        assertRefused(() -> jsonPatch("tested", "[{\"op\": \"test\", \"path\": \"/spec/replicas\", \"value\": \"1\"}]"),
                "value differs from expectations");
        assertRefused(() -> jsonPatch("tested", "[{\"op\": \"test\", \"path\": \"" + env + "/value\", \"value\": \"other\"},"
                + " {\"op\": \"replace\", \"path\": \"" + env + "/value\", \"value\": \"new\"}]"), "value differs from expectations");
        assertThat(raw(DEPLOYMENTS + "tested").at(env + "/value").asText()).isEqualTo("old");

        jsonPatch("tested", "[{\"op\": \"test\", \"path\": \"/spec/replicas\", \"value\": 1}, {\"op\": \"test\", \"path\": \""
                + env + "/value\", \"value\": \"old\"}, {\"op\": \"replace\", \"path\": \"" + env + "/value\", \"value\": \"new\"}]");
        assertThat(raw(DEPLOYMENTS + "tested").at(env + "/value").asText()).isEqualTo("new");
    }

    @Test
    void removeAndReplaceOfMissingPathsAndIndexesOutOfBoundsAreRefused() {
        create("missing", Map.of());
        JsonNode before = raw(DEPLOYMENTS + "missing");

        assertRefused(() -> jsonPatch("missing", "[{\"op\": \"remove\", \"path\": \"/spec/paused\"}]"), "no such path");
        assertRefused(() -> jsonPatch("missing", "[{\"op\": \"remove\", \"path\": \"/metadata/annotations/a\"}]"), "no such path");
        assertRefused(() -> jsonPatch("missing", "[{\"op\": \"replace\", \"path\": \"/spec/minReadySeconds\", \"value\": 5}]"),
                "no such path");
        assertRefused(() -> jsonPatch("missing", "[{\"op\": \"replace\", \"path\": \"/spec/template/spec/containers/0/env/1/value\","
                + " \"value\": \"x\"}]"), "no such path");
        assertRefused(() -> jsonPatch("missing", "[{\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/env/2\","
                + " \"value\": {\"name\": \"X\"}}]"), "no such index");

        assertThat(raw(DEPLOYMENTS + "missing")).isEqualTo(before);
    }

    @Test
    void mergePatchSetsTheRestartAnnotationWithOrWithoutAnnotationsPresent() {
        create("bare", Map.of());
        create("annotated", Map.of("checksum/config", "abc"));
        String restart = "{\"spec\": {\"template\": {\"metadata\": {\"annotations\": {\"" + RESTARTED_AT + "\": \"2026-01-01T00:00:00Z\"}}}}}";

        Deployment bare = client.apps().deployments().withName("bare").patch(PatchContext.of(PatchType.JSON_MERGE), restart);
        client.apps().deployments().withName("annotated").patch(PatchContext.of(PatchType.JSON_MERGE), restart);

        assertThat(bare.getMetadata().getGeneration()).isEqualTo(2);
        assertThat(raw(DEPLOYMENTS + "bare").at("/spec/template/metadata/annotations").toString())
                .isEqualTo("{\"" + RESTARTED_AT + "\":\"2026-01-01T00:00:00Z\"}");
        assertThat(JSON.convertValue(raw(DEPLOYMENTS + "annotated").at("/spec/template/metadata/annotations"), Map.class))
                .isEqualTo(Map.of("checksum/config", "abc", RESTARTED_AT, "2026-01-01T00:00:00Z"));

        client.apps().deployments().withName("bare").patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"spec\": {\"template\": {\"metadata\": {\"annotations\": {\"" + RESTARTED_AT + "\": null}}}}}");
        assertThat(raw(DEPLOYMENTS + "bare").at("/spec/template/metadata").has("annotations")).as("null deletes").isFalse();
        client.apps().deployments().withName("bare").patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"spec\": {\"template\": {\"spec\": {\"containers\": [{\"name\": \"other\", \"image\": \"alpine\"}]}}}}");
        assertThat(raw(DEPLOYMENTS + "bare").at("/spec/template/spec/containers").toString()).as("arrays are replaced")
                .isEqualTo("[{\"name\":\"other\",\"image\":\"alpine\"}]");
    }

    @Test
    void resourceVersionAndGenerationChangeAsOnTheApiServer() {
        create("versioned", Map.of());
        var resource = client.apps().deployments().withName("versioned");
        Deployment created = resource.get();
        assertThat(created.getMetadata().getGeneration()).isEqualTo(1);

        Deployment labelled = jsonPatch("versioned", "[{\"op\": \"add\", \"path\": \"/metadata/labels/x\", \"value\": \"y\"}]");
        assertThat(labelled.getMetadata().getResourceVersion()).isNotEqualTo(created.getMetadata().getResourceVersion());
        assertThat(labelled.getMetadata().getGeneration()).as("labels only").isEqualTo(1);

        Deployment annotated = jsonPatch("versioned", "[{\"op\": \"add\", \"path\": \"/metadata/annotations\", \"value\": {\"a\": \"b\"}}]");
        assertThat(annotated.getMetadata().getGeneration()).as("a Deployment's annotations count (deployment strategy)").isEqualTo(2);

        Deployment withStatus = new DeploymentBuilder(annotated).editSpec().withReplicas(7).endSpec()
                .withStatus(new DeploymentStatusBuilder().withReplicas(1).withObservedGeneration(2L).build()).build();
        Deployment statused = client.apps().deployments().resource(withStatus).updateStatus();
        assertThat(statused.getMetadata().getResourceVersion()).isNotEqualTo(annotated.getMetadata().getResourceVersion());
        assertThat(statused.getMetadata().getGeneration()).isEqualTo(2);
        assertThat(statused.getSpec().getReplicas()).as("a status write changes only status").isEqualTo(1);
        assertThat(statused.getStatus().getReplicas()).isEqualTo(1);

        Deployment notStatus = jsonPatch("versioned", "[{\"op\": \"replace\", \"path\": \"/status/replicas\", \"value\": 9}]");
        assertThat(notStatus.getStatus().getReplicas()).as("status only through /status").isEqualTo(1);
        assertThat(notStatus.getMetadata().getResourceVersion()).as("a write that changes nothing")
                .isEqualTo(statused.getMetadata().getResourceVersion());

        Deployment scaled = jsonPatch("versioned", "[{\"op\": \"replace\", \"path\": \"/spec/replicas\", \"value\": 3}]");
        assertThat(scaled.getMetadata().getGeneration()).isEqualTo(3);
        assertThat(scaled.getStatus().getReplicas()).isEqualTo(1);
    }

    @Test
    void aStaleResourceVersionIsAConflict() {
        create("stale", Map.of());
        var resource = client.apps().deployments().withName("stale");
        Deployment old = resource.get();
        jsonPatch("stale", "[{\"op\": \"add\", \"path\": \"/metadata/labels/x\", \"value\": \"y\"}]");

        assertCode(409, () -> client.apps().deployments().resource(new DeploymentBuilder(old).editSpec().withReplicas(2).endSpec()
                .build()).update());
        assertCode(409, () -> client.apps().deployments().resource(new DeploymentBuilder(old)
                .withStatus(new DeploymentStatusBuilder().withReplicas(1).build()).build()).updateStatus());
        assertCode(409, () -> resource.patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\": {\"resourceVersion\": \"" + old.getMetadata().getResourceVersion() + "\"}, \"spec\": {\"replicas\": 2}}"));
        assertThat(resource.get().getSpec().getReplicas()).isEqualTo(1);

        Deployment edited = resource.edit(d -> new DeploymentBuilder(d).editSpec().withReplicas(2).endSpec().build());
        assertThat(edited.getSpec().getReplicas()).isEqualTo(2);
    }

    @Test
    void secretStringDataIsMergedIntoData() {
        String a = Base64.getEncoder().encodeToString("old".getBytes(StandardCharsets.UTF_8));
        client.secrets().resource(new SecretBuilder().withNewMetadata().withName("s").endMetadata()
                .addToData("a", a).addToData("c", a).addToStringData("a", "new").addToStringData("b", "two").build()).create();

        JsonNode s = raw("/api/v1/namespaces/dify/secrets/s");
        assertThat(s.has("stringData")).isFalse();
        assertThat(JSON.convertValue(s.get("data"), Map.class)).isEqualTo(Map.of("a", b64("new"), "b", b64("two"), "c", a));

        client.secrets().withName("s").patch(PatchContext.of(PatchType.JSON_MERGE), "{\"stringData\": {\"c\": \"three\"}}");
        assertThat(raw("/api/v1/namespaces/dify/secrets/s").at("/data/c").asText()).isEqualTo(b64("three"));
        assertThat(raw("/api/v1/namespaces/dify/secrets/s").has("stringData")).isFalse();
    }

    @Test
    void scaleGoesThroughTheScaleSubresource() {
        create("scaled", Map.of());
        RollableScalableResource<Deployment> resource = client.apps().deployments().withName("scaled");

        Deployment scaled = resource.scale(3);

        assertThat(scaled.getSpec().getReplicas()).isEqualTo(3);
        assertThat(scaled.getMetadata().getGeneration()).isEqualTo(2);
        Scale scale = resource.scale();
        assertThat(scale.getKind()).isEqualTo("Scale");
        assertThat(scale.getSpec().getReplicas()).isEqualTo(3);
        assertThat(scale.getStatus().getSelector()).isEqualTo("app=scaled");
        assertThat(raw(DEPLOYMENTS + "scaled").get("kind").asText()).isEqualTo("Deployment");
        resource.scale(0);
        assertThat(resource.get().getSpec().getReplicas()).isZero();
        assertThat(resource.scale().getSpec().getReplicas()).isNull();
    }

    @Test
    void strategicMergePatchAndServerSideApplyAreNotServed() {
        create("smp", Map.of());
        var resource = client.apps().deployments().withName("smp");

        assertCode(415, () -> resource.patch(PatchContext.of(PatchType.STRATEGIC_MERGE), "{\"spec\": {\"replicas\": 2}}"));
        assertCode(415, () -> client.apps().deployments().resource(new DeploymentBuilder(resource.get()).editMetadata()
                .withResourceVersion(null).endMetadata().build()).serverSideApply());
    }

    static Stream<String> charts() throws IOException, URISyntaxException {
        try (Stream<Path> files = Files.list(Path.of(KubernetesLikeApiIT.class.getResource("/charts").toURI()))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("charts")
    void chartPodTemplatesAreStoredWithoutEmptyAnnotationsAndPatchedStrictly(String chart) {
        k.load("/charts/" + chart);
        List<String> withoutAnnotations = new ArrayList<>();
        List<Deployment> deployments = client.apps().deployments().list().getItems();
        assertThat(deployments).isNotEmpty();

        for (Deployment d : deployments) {
            String name = d.getMetadata().getName();
            JsonNode templateMetadata = raw(DEPLOYMENTS + name).at("/spec/template/metadata");
            JsonNode annotations = templateMetadata.get("annotations");
            assertThat(annotations == null || annotations.isObject() && !annotations.isEmpty()).as(name + ": " + annotations).isTrue();
            String add = "[{\"op\": \"add\", \"path\": \"/spec/template/metadata/annotations/" + RESTARTED_AT.replace("/", "~1")
                    + "\", \"value\": \"now\"}]";
            if (annotations == null) {
                withoutAnnotations.add(name);
                assertRefused(() -> jsonPatch(name, add), "parent of node to add does not exist");
            } else {
                jsonPatch(name, add);
            }
            client.apps().deployments().withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
                    "{\"spec\": {\"template\": {\"metadata\": {\"annotations\": {\"" + RESTARTED_AT + "\": \"later\"}}}}}");
            assertThat(raw(DEPLOYMENTS + name).at("/spec/template/metadata/annotations").get(RESTARTED_AT).asText()).isEqualTo("later");
        }
        assertThat(withoutAnnotations).as("templates without annotations in " + chart).isNotEmpty();
    }

    private void create(String name, Map<String, String> templateAnnotations) {
        client.apps().deployments().resource(new DeploymentBuilder().withNewMetadata().withName(name).addToLabels("app", name).endMetadata()
                .withNewSpec().withReplicas(1).withNewSelector().addToMatchLabels("app", name).endSelector()
                .withNewTemplate().withNewMetadata().addToLabels("app", name).addToAnnotations(templateAnnotations).endMetadata()
                .withNewSpec().addNewContainer().withName("c").withImage("busybox").addNewEnv().withName("V").withValue("old")
                .endEnv().endContainer().endSpec().endTemplate().endSpec().build()).create();
    }

    private Deployment jsonPatch(String deployment, String patch) {
        return client.apps().deployments().withName(deployment).patch(PatchContext.of(PatchType.JSON), patch);
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Refused as kube-apiserver refuses a JSON patch it cannot apply; the library's reason is the one cause. */
    private static void assertRefused(ThrowingCallable call, String why) {
        assertThatThrownBy(call).isInstanceOfSatisfying(KubernetesClientException.class, e -> {
            assertThat(e.getCode()).isEqualTo(422);
            assertThat(e.getStatus().getReason()).isEqualTo("Invalid");
            assertThat(e.getStatus().getMessage()).isEqualTo(REJECTED);
            assertThat(e.getStatus().getDetails().getCauses().get(0).getMessage()).contains(why);
        });
    }

    private static void assertCode(int code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(code));
    }

    private JsonNode raw(String path) {
        HttpResponse<String> response = send("GET", path, null, null);
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> send(String method, String path, String contentType, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(k.url() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        try {
            HttpResponse<String> response = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isLessThan(300);
            return response;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
