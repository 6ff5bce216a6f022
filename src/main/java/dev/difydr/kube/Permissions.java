package dev.difydr.kube;

import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
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

        /** This rule narrowed to some of its verbs, to ask for what one command uses. */
        public Rule only(String... wanted) {
            return new Rule(group, resource, verbs.stream().filter(List.of(wanted)::contains).toList(), restore, note);
        }
    }

    public static final Rule POD_EXEC = new Rule("", "pods/exec", List.of("create"), false,
            "only for a storage with \"pod:\" (backup, and restore --with storage into it; a restore's preflight asks for it)");

    /**
     * The backed-up ConfigMaps and Secrets re-created by {@code restore --with config} (get, create) and by a drill
     * with {@code drill.namespace} (get, create, and delete of what it created), in the namespace they go to.
     */
    public static final Rule CONFIG_MAPS_WRITE = new Rule("", "configmaps", List.of("get", "create", "delete"), false,
            "only to re-create the backed-up ConfigMaps and Secrets: restore --with config (get, create) and drill.namespace"
                    + " (get, create, delete), in the namespace they go to");
    public static final Rule SECRETS_WRITE = new Rule("", "secrets", List.of("get", "create", "delete"), false, null);

    /** Rules with {@code restore} are what every restore and its rollback use; preflight asks for each. */
    public static final List<Rule> RULES = List.of(
            new Rule("apps", "deployments", List.of("get", "list", "patch"), true, null),
            new Rule("", "pods", List.of("list"), true, null),
            new Rule("", "configmaps", List.of("get", "patch"), true, null),
            new Rule("", "secrets", List.of("get", "patch"), true, null),
            new Rule("coordination.k8s.io", "leases", List.of("get", "create", "delete"), true, null),
            new Rule("autoscaling", "horizontalpodautoscalers", List.of("list"), false,
                    "optional: lets the plan warn about HorizontalPodAutoscalers on Dify's writers"),
            POD_EXEC, CONFIG_MAPS_WRITE, SECRETS_WRITE);

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

    /** The Role (and its binding to a service account) that grants every rule in the namespace. */
    public static String roleYaml(String namespace) {
        StringBuilder sb = new StringBuilder();
        sb.append("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n");
        sb.append("metadata: {name: dify-dr-restore, namespace: ").append(namespace).append("}\nrules:\n");
        for (Rule r : RULES) {
            if (r.note() != null) {
                sb.append("  # ").append(r.note()).append('\n');
            }
            sb.append("  - {apiGroups: [\"").append(r.group()).append("\"], resources: [\"").append(r.resource()).append("\"], verbs: [")
                    .append(r.verbs().stream().map(v -> "\"" + v + "\"").collect(Collectors.joining(", "))).append("]}\n");
        }
        return sb.toString();
    }
}
