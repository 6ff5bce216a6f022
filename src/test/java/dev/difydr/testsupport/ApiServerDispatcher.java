package dev.difydr.testsupport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.fge.jsonpatch.JsonPatch;
import com.github.fge.jsonpatch.JsonPatchException;
import com.github.fge.jsonpatch.mergepatch.JsonMergePatch;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The fabric8 CRUD mock made to store and patch objects as kube-apiserver does, where a restore depends on it. The mock
 * alone is kinder: it creates missing parents before a JSON patch, keeps empty maps and takes status from any write.
 * <ul>
 *   <li>Every write (create, replace, JSON and merge patch; main resource, {@code /status}, {@code /scale}) is stored as
 *       the API server's Go types would encode it: nulls and empty arrays dropped (omitempty slices), empty objects
 *       dropped under keys that are maps with omitempty ({@link #OMITEMPTY_MAPS}), an env var's empty {@code value}
 *       dropped (omitempty string); empty structs such as {@code emptyDir: {}} or {@code resources: {}} are kept. A
 *       Secret's {@code stringData} is merged into {@code data} and not stored (core/v1 conversion.go,
 *       Convert_v1_Secret_To_core_Secret). A Deployment without {@code spec.replicas} gets 1 (apps/v1 defaults.go).</li>
 *   <li>A Deployment's {@code status} is reset on create and kept on writes to the main resource; its
 *       {@code metadata.generation} is 1 on create and grows when {@code spec} or {@code metadata.annotations} change
 *       (registry/apps/deployment/strategy.go). Other objects with a {@code spec} grow it when the spec changes.
 *       {@code /status} writes change only status (Kubernetes would also take annotations from them).</li>
 *   <li>{@code resourceVersion} changes on every write that changes the object; a no-op write keeps it, as etcd3
 *       GuaranteedUpdate does. A write whose {@code resourceVersion} is set and not current, also through
 *       {@code /status}, {@code /scale} or a patch that sets it, is refused with 409 Conflict.</li>
 *   <li>JSON patch (RFC 6902) and merge patch (RFC 7386) are applied by java-json-tools' json-patch, which follows the
 *       RFCs to the letter as evanphx/json-patch does for the API server: {@code add} needs an existing parent,
 *       {@code test} compares type and value, {@code remove}/{@code replace} of a missing path and array indexes out of
 *       bounds fail. A patch that cannot be applied is answered 422 with reason Invalid and the message
 *       kube-apiserver gives (endpoints/handlers/patch.go, applyJSPatch → NewGenericServerResponse), and nothing is
 *       stored. Kubernetes sends no causes; this server adds the library's reason as one, to say why in test output.</li>
 *   <li>{@code /scale} serves an {@code autoscaling/v1} Scale (GET, PUT, patch) and writes {@code spec.replicas}.</li>
 *   <li>Strategic merge patch and server-side apply answer 415 Unsupported Media Type: not implemented here.</li>
 * </ul>
 * Pods keep the mock's handling of status, because the fake kubelet writes pod status with them.
 */
final class ApiServerDispatcher extends KubernetesCrudDispatcher {
    /** Keys whose Go type in the objects used here is a map with omitempty: an empty one is not stored. */
    static final Set<String> OMITEMPTY_MAPS = Set.of("annotations", "labels", "data", "binaryData", "stringData",
            "matchLabels", "nodeSelector", "limits", "requests");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** An object's path: API prefix, optional namespace, plural, name, optional subresource; a query is cut off first. */
    private static final Pattern OBJECT_PATH = Pattern.compile(
            "(/(?:api/v1|apis/([^/]+)/[^/]+)(?:/namespaces/[^/]+)?/([^/]+)/([^/]+))(?:/(status|scale))?");
    private static final String JSON_PATCH = "application/json-patch+json";
    private static final String MERGE_PATCH = "application/merge-patch+json";

    /** Makes each read-modify-write atomic: all writes come through here. */
    private final Object writes = new Object();
    /** Writes a test wants refused, as an admission webhook or a policy would refuse them: 403 Forbidden. */
    private volatile Predicate<RecordedRequest> refused = r -> false;

    void refuse(Predicate<RecordedRequest> which) {
        refused = which;
    }

    /** Permissions ("verb resource", e.g. "patch configmaps") that SelfSubjectAccessReviews answer as not allowed. */
    private final Set<String> denied = java.util.concurrent.ConcurrentHashMap.newKeySet();

    void deny(String verbAndResource) {
        denied.add(verbAndResource);
    }

    /** The bearer token of the test's own clients (fixtures, the fake controller): never checked against a Role. */
    static final String ADMIN_TOKEN = "test-cluster-admin";
    /** Who every other caller (dify-dr) is, in messages. */
    static final String USER = "system:serviceaccount:dify-dr:dify-dr";
    /** The Roles every caller but the test's own clients is held to, by namespace; null: everything is allowed. */
    private volatile Map<String, List<PolicyRule>> roles;
    /** Every request of a caller held to {@link #roles}, in order. */
    private final List<Call> calls = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** One request of dify-dr as the server authorized it; {@code request} is null for one that needs no rule. */
    record Call(String method, String path, Rbac.Request request, boolean allowed) {
    }

    void enforce(List<Role> granted) {
        if (granted == null) {
            roles = null;
            return;
        }
        Map<String, List<PolicyRule>> byNamespace = new TreeMap<>();
        granted.forEach(r -> byNamespace.computeIfAbsent(r.getMetadata().getNamespace(), n -> new ArrayList<>()).addAll(r.getRules()));
        roles = byNamespace;
    }

    List<Call> calls() {
        return List.copyOf(calls);
    }

    /** The rules of the Roles in {@code namespace}: a Role grants nothing outside its namespace, nor cluster-wide. */
    private List<PolicyRule> rulesIn(String namespace) {
        return roles.getOrDefault(namespace, List.of());
    }

    /**
     * Authorizes a request as kube-apiserver's RBAC authorizer would with only {@link #roles} bound to the caller
     * (see {@link Rbac}), answering 403 with the server's message when it may not; the test's own clients pass.
     */
    @Override
    public MockResponse dispatch(RecordedRequest request) {
        if (roles != null && !admin(request)) {
            Rbac.Request attributes = Rbac.of(request.getMethod(), request.getPath());
            List<PolicyRule> rules = attributes == null ? List.of() : rulesIn(attributes.namespace());
            boolean allowed = attributes == null || Rbac.allows(rules, attributes);
            calls.add(new Call(request.getMethod(), request.getPath(), attributes, allowed));
            if (!allowed) {
                return status(403, "Forbidden", Rbac.forbidden(rules, attributes, USER), null);
            }
        }
        return super.dispatch(request);
    }

    private static boolean admin(RecordedRequest request) {
        return ("Bearer " + ADMIN_TOKEN).equals(request.getHeader("Authorization"));
    }

    /**
     * A SelfSubjectAccessReview is answered, not stored, as kube-apiserver does (registry/authorization/
     * selfsubjectaccessreview/rest.go): the spec comes back with {@code status.allowed}. Everything is allowed but
     * what a test denied, and, for a caller held to a Role, what the Role does not grant.
     */
    private MockResponse review(ObjectNode body, boolean admin) {
        JsonNode attributes = body.path("spec").path("resourceAttributes");
        String resource = attributes.path("resource").asText() + (attributes.path("subresource").asText().isEmpty() ? ""
                : "/" + attributes.path("subresource").asText());
        String verb = attributes.path("verb").asText();
        boolean allowed = !denied.contains(verb + " " + resource) && (admin || roles == null || Rbac.allows(
                rulesIn(attributes.path("namespace").asText()), verb, attributes.path("group").asText(), resource, attributes.path("name").asText()));
        body.putObject("status").put("allowed", allowed);
        return json(201, body);
    }

    private MockResponse refusal() {
        return status(403, "Forbidden", "admission webhook \"test.difydr.dev\" denied the request", null);
    }

    private record Target(String objectPath, String group, String plural, String name, String subresource) {
        String resource() {
            return group == null ? plural : plural + "." + group;
        }
    }

    @Override
    public MockResponse handleCreate(RecordedRequest request) {
        if (refused.test(request)) {
            return refusal();
        }
        synchronized (writes) {
            ObjectNode body;
            try {
                body = object(JSON.readTree(body(request)));
            } catch (IOException | IllegalArgumentException e) {
                return status(400, "BadRequest", "the object could not be decoded: " + e.getMessage(), null);
            }
            if ("SelfSubjectAccessReview".equals(body.path("kind").asText())) {
                return review(body, admin(request));
            }
            if (isDeployment(body)) {
                body.putObject("status");
            }
            return super.handleCreate(request(request, HttpMethod.POST, request.getPath(), stored(body)));
        }
    }

    @Override
    public MockResponse handleUpdate(RecordedRequest request) {
        if (refused.test(request)) {
            return refusal();
        }
        synchronized (writes) {
            Target target = target(request.getPath());
            ObjectNode current = target == null ? null : current(target);
            if (current == null) {
                return notFound(target);
            }
            try {
                return write(request, target, current, object(JSON.readTree(body(request))));
            } catch (IOException | IllegalArgumentException e) {
                return status(400, "BadRequest", "the object could not be decoded: " + e.getMessage(), null);
            }
        }
    }

    @Override
    public MockResponse handlePatch(RecordedRequest request) {
        if (refused.test(request)) {
            return refusal();
        }
        String contentType = Objects.toString(request.getHeader("Content-Type"), "").replaceAll(";.*", "").trim();
        if (!contentType.equals(JSON_PATCH) && !contentType.equals(MERGE_PATCH)) {
            return status(415, "UnsupportedMediaType", "this test server accepts only " + JSON_PATCH + " and " + MERGE_PATCH
                    + ", not " + contentType, null);
        }
        synchronized (writes) {
            Target target = target(request.getPath());
            ObjectNode current = target == null ? null : current(target);
            if (current == null) {
                return notFound(target);
            }
            JsonNode base = "scale".equals(target.subresource()) ? scale(current) : current;
            JsonNode patched;
            try {
                JsonNode patch = JSON.readTree(body(request));
                patched = contentType.equals(JSON_PATCH) ? JsonPatch.fromJson(patch).apply(base) : JsonMergePatch.fromJson(patch).apply(base);
            } catch (JsonPatchException e) {
                return status(422, "Invalid", "the server rejected our request due to an error in our request", e.getMessage());
            } catch (IOException e) {
                return status(400, "BadRequest", e.getMessage(), null);
            }
            if (!patched.isObject()) {
                return status(422, "Invalid", "the server rejected our request due to an error in our request", "not an object");
            }
            return write(request, target, current, (ObjectNode) patched);
        }
    }

    @Override
    public MockResponse handleGet(String path) {
        Target target = target(path);
        if (target != null && "scale".equals(target.subresource())) {
            ObjectNode current = current(target);
            return current == null ? notFound(target) : json(200, scale(current));
        }
        return super.handleGet(path);
    }

    /**
     * Generation as the API server's strategies keep it. Called by the mock for writes to the main resource, after it
     * has copied the stored generation into the new object.
     */
    @Override
    public void touchGeneration(JsonNode current, JsonNode updated) {
        boolean changed = !Objects.equals(current.get("spec"), updated.get("spec"));
        if (isDeployment(updated)) {
            changed |= !Objects.equals(current.path("metadata").get("annotations"), updated.path("metadata").get("annotations"));
        }
        if (changed) {
            ((ObjectNode) updated.get("metadata")).put("generation", current.path("metadata").path("generation").asLong(0) + 1);
        }
    }

    /** Stores {@code body} as the new object, its status, or (for {@code /scale}) its replicas. */
    private MockResponse write(RecordedRequest request, Target target, ObjectNode current, ObjectNode body) {
        String version = body.path("metadata").path("resourceVersion").asText("");
        if (!version.isEmpty() && !version.equals(current.path("metadata").path("resourceVersion").asText())) {
            return status(409, "Conflict", "Operation cannot be fulfilled on " + target.resource() + " \"" + target.name()
                    + "\": the object has been modified; please apply your changes to the latest version and try again", null);
        }
        String subresource = Objects.toString(target.subresource(), "");
        switch (subresource) {
            case "scale" -> {
                if (!current.path("spec").isObject()) {
                    return notFound(target);
                }
                ObjectNode next = current.deepCopy();
                ((ObjectNode) next.get("spec")).put("replicas", body.path("spec").path("replicas").asInt(0));
                MockResponse stored = super.handleUpdate(request(request, HttpMethod.PUT, target.objectPath(), stored(next)));
                if (stored.code() != 200) {
                    return stored;
                }
                return json(200, scale(object(parse(stored))));
            }
            case "status" -> {
                return super.handleUpdate(request(request, HttpMethod.PUT, target.objectPath() + "/status", stored(body)));
            }
            default -> {
                if (isDeployment(current)) {
                    body.set("status", current.get("status"));
                }
                return super.handleUpdate(request(request, HttpMethod.PUT, target.objectPath(), stored(body)));
            }
        }
    }

    /** The object as the API server stores it: see the class comment. */
    static ObjectNode stored(ObjectNode object) {
        ObjectNode out = object.deepCopy();
        if ("Secret".equals(out.path("kind").asText()) && out.path("stringData").isObject()) {
            ObjectNode data = out.path("data").isObject() ? (ObjectNode) out.get("data") : out.putObject("data");
            out.get("stringData").properties().forEach(e -> data.put(e.getKey(),
                    Base64.getEncoder().encodeToString(e.getValue().asText().getBytes(StandardCharsets.UTF_8))));
            out.remove("stringData");
        }
        if (isDeployment(out) && out.path("spec").isObject() && out.path("spec").path("replicas").isMissingNode()) {
            ((ObjectNode) out.get("spec")).put("replicas", 1);
        }
        omitEmpty(out);
        return out;
    }

    private static void omitEmpty(JsonNode node) {
        if (node instanceof ObjectNode object) {
            List<String> drop = new ArrayList<>();
            object.properties().forEach(e -> {
                JsonNode v = e.getValue();
                omitEmpty(v);
                if (v.isNull() || v.isArray() && v.isEmpty() || v.isObject() && v.isEmpty() && OMITEMPTY_MAPS.contains(e.getKey())) {
                    drop.add(e.getKey());
                }
                if (e.getKey().equals("env") && v.isArray()) {
                    v.forEach(env -> {
                        if (env.path("value").isTextual() && env.path("value").asText().isEmpty()) {
                            ((ObjectNode) env).remove("value");
                        }
                    });
                }
            });
            object.remove(drop);
        } else if (node instanceof ArrayNode array) {
            array.forEach(ApiServerDispatcher::omitEmpty);
        }
    }

    /** autoscaling/v1 Scale of an object with {@code spec.replicas}, as the scale subresource answers. */
    private static ObjectNode scale(ObjectNode object) {
        ObjectNode scale = JSON.createObjectNode().put("kind", "Scale").put("apiVersion", "autoscaling/v1");
        ObjectNode metadata = scale.putObject("metadata");
        for (String field : List.of("name", "namespace", "uid", "resourceVersion", "creationTimestamp")) {
            if (object.path("metadata").has(field)) {
                metadata.set(field, object.get("metadata").get(field));
            }
        }
        int replicas = object.path("spec").path("replicas").asInt(0);
        ObjectNode spec = scale.putObject("spec");
        if (replicas != 0) {
            spec.put("replicas", replicas);
        }
        Map<String, String> labels = new TreeMap<>();
        object.path("spec").path("selector").path("matchLabels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        scale.putObject("status").put("replicas", object.path("status").path("replicas").asInt(0))
                .put("selector", labels.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")));
        return scale;
    }

    private ObjectNode current(Target target) {
        MockResponse response = super.handleGet(target.objectPath());
        return response.code() == 200 ? object(parse(response)) : null;
    }

    private static Target target(String path) {
        Matcher m = OBJECT_PATH.matcher(path.replaceAll("\\?.*", ""));
        return m.matches() ? new Target(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)) : null;
    }

    private static boolean isDeployment(JsonNode object) {
        return "Deployment".equals(object.path("kind").asText()) && object.path("apiVersion").asText().startsWith("apps/");
    }

    private static ObjectNode object(JsonNode node) {
        if (!(node instanceof ObjectNode object)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return object;
    }

    private static JsonNode parse(MockResponse response) {
        try {
            return JSON.readTree(response.getBody().getBytes());
        } catch (IOException e) {
            throw new IllegalStateException("the mock stored what is not JSON", e);
        }
    }

    private static String body(RecordedRequest request) {
        return new String(request.getBody().getBytes(), StandardCharsets.UTF_8);
    }

    private static RecordedRequest request(RecordedRequest original, HttpMethod method, String path, ObjectNode body) {
        return new RecordedRequest(original.getHttpVersion(), method, path, original.getHeaders(),
                new Buffer(body.toString().getBytes(StandardCharsets.UTF_8)));
    }

    private static MockResponse notFound(Target target) {
        return target == null ? status(404, "NotFound", "the server could not find the requested resource", null)
                : status(404, "NotFound", target.resource() + " \"" + target.name() + "\" not found", null);
    }

    /** A metav1.Status as the API server sends with an error. */
    private static MockResponse status(int code, String reason, String message, String cause) {
        ObjectNode status = JSON.createObjectNode().put("kind", "Status").put("apiVersion", "v1");
        status.putObject("metadata");
        status.put("status", "Failure").put("message", message).put("reason", reason);
        ObjectNode details = status.putObject("details");
        if (cause != null) {
            details.putArray("causes").addObject().put("message", cause);
        }
        status.put("code", code);
        return json(code, status);
    }

    private static MockResponse json(int code, JsonNode body) {
        try {
            return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json")
                    .setBody(JSON.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
