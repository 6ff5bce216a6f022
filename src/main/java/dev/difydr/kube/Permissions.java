package dev.difydr.kube;

import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;

/**
 * The one list of what dify-dr may need to do in Dify's namespace, and the questions to the API server
 * (SelfSubjectAccessReview) that find a missing permission in preflight instead of halfway through the night. The
 * Role in the runbook is rendered from this list ({@link #roleYaml}), and so is the hint of a refused call.
 */
public final class Permissions {
    /** One rule of the Role: API group, resource (or resource/subresource), verbs; {@code note} says when it is needed. */
    public record Rule(String group, String resource, List<String> verbs, boolean restore, String note) {
        String describe() {
            return String.join("/", verbs) + " on " + resource;
        }
    }

    /**
     * A storage with {@code pod:}: before it runs {@code tar} in the pod, fabric8 reads the pod and waits for it to be
     * ready with an informer (a list, then a watch when the pod is not ready at once); the command runs over a
     * WebSocket that opens with a GET, which Kubernetes authorizes as {@code get} on pods/exec, and from 1.35 on
     * ({@code AuthorizePodWebsocketUpgradeCreatePermission}) also as {@code create}.
     */
    public static final List<Rule> POD_STORAGE = List.of(
            new Rule("", "pods", List.of("get", "watch"), false,
                    "only for a storage with \"pod:\" (backup, and restore --with storage into it; a restore's preflight asks for them):"
                            + " the pod is read and waited for, then tar runs in it over a WebSocket, a GET (get before Kubernetes 1.35,"
                            + " get and create from 1.35)"),
            new Rule("", "pods/exec", List.of("get", "create"), false, null));

    /** The backed-up ConfigMaps and Secrets that {@code restore --with config} re-creates where they are missing. */
    public static final Rule CONFIG_MAPS_CREATE = new Rule("", "configmaps", List.of("create"), false,
            "only for restore --with config, which re-creates the backed-up ConfigMaps and Secrets that are missing");
    public static final Rule SECRETS_CREATE = new Rule("", "secrets", List.of("create"), false, null);

    /** Rules with {@code restore} are what every restore and its rollback use; preflight asks for each. */
    public static final List<Rule> RULES = Stream.of(List.of(
            new Rule("apps", "deployments", List.of("get", "list", "patch"), true, null),
            new Rule("", "pods", List.of("list"), true, null),
            new Rule("", "configmaps", List.of("get", "patch"), true, null),
            new Rule("", "secrets", List.of("get", "patch"), true, null),
            new Rule("coordination.k8s.io", "leases", List.of("get", "create", "delete"), true, null),
            new Rule("autoscaling", "horizontalpodautoscalers", List.of("list"), false,
                    "optional: lets the plan warn about HorizontalPodAutoscalers on Dify's writers")),
            POD_STORAGE, List.of(CONFIG_MAPS_CREATE, SECRETS_CREATE)).flatMap(List::stream).toList();

    /**
     * What a drill with {@code drill.namespace} needs there, and nowhere else: it re-creates the backed-up ConfigMaps
     * and Secrets in that namespace and deletes what it created.
     */
    public static final List<Rule> DRILL_RULES = List.of(
            new Rule("", "configmaps", List.of("get", "create", "delete"), false,
                    "only in drill.namespace: a drill re-creates the backed-up ConfigMaps and Secrets there and deletes them after"),
            new Rule("", "secrets", List.of("get", "create", "delete"), false, null));

    private final KubernetesClient client;
    private final String namespace;

    public Permissions(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** The permissions the server says are missing, as "verb resource"; an unanswered review counts as granted. */
    public List<String> missingForRestore() {
        return missing(RULES.stream().filter(Rule::restore).toArray(Rule[]::new));
    }

    /** Of the given rules' permissions, those the server says are missing. */
    public List<String> missing(Rule... rules) {
        List<String> missing = new ArrayList<>();
        for (Rule rule : rules) {
            String[] resource = rule.resource().split("/", 2);
            for (String verb : rule.verbs()) {
                SelfSubjectAccessReview review = new SelfSubjectAccessReviewBuilder().withNewSpec().withNewResourceAttributes()
                        .withNamespace(namespace).withGroup(rule.group()).withResource(resource[0]).withSubresource(resource.length > 1 ? resource[1] : null)
                        .withVerb(verb).endResourceAttributes().endSpec().build();
                try {
                    SelfSubjectAccessReview answer = client.authorization().v1().selfSubjectAccessReview().create(review);
                    if (answer.getStatus() != null && Boolean.FALSE.equals(answer.getStatus().getAllowed())) {
                        missing.add(verb + " " + (rule.group().isEmpty() ? "" : rule.group() + "/") + rule.resource());
                    }
                } catch (KubernetesClientException e) {
                    // A server that cannot review access still enforces it; the first refused call will say so.
                    LoggerFactory.getLogger(Permissions.class).warn(
                            "cannot ask the API server which permissions dify-dr has ({}); a missing one will show when it is used", e.getMessage());
                    return missing;
                }
            }
        }
        return missing;
    }

    /** What a restore needs, in one line, for messages. */
    static String restoreSummary() {
        return RULES.stream().filter(Rule::restore).map(Rule::describe).collect(Collectors.joining(", "));
    }

    /** The Role that grants every rule in Dify's namespace, and the one a drill needs in {@code drill.namespace}. */
    public static String roleYaml(String namespace) {
        return role("dify-dr-restore", namespace, RULES) + "---\n" + role("dify-dr-drill", "<drill.namespace>", DRILL_RULES);
    }

    private static String role(String name, String namespace, List<Rule> rules) {
        StringBuilder sb = new StringBuilder();
        sb.append("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n");
        sb.append("metadata: {name: ").append(name).append(", namespace: ").append(namespace).append("}\nrules:\n");
        for (Rule r : rules) {
            if (r.note() != null) {
                sb.append("  # ").append(r.note()).append('\n');
            }
            sb.append("  - {apiGroups: [\"").append(r.group()).append("\"], resources: [\"").append(r.resource()).append("\"], verbs: [")
                    .append(r.verbs().stream().map(v -> "\"" + v + "\"").collect(Collectors.joining(", "))).append("]}\n");
        }
        return sb.toString();
    }
}
