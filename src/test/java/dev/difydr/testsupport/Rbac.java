package dev.difydr.testsupport;

import dev.difydr.kube.Permissions;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * How kube-apiserver authorizes a request against a Role's rules, for the test API server: the request's attributes
 * as {@code apiserver/pkg/endpoints/request/requestinfo.go} derives them from method and path, and RBAC's rule match
 * ({@code plugin/pkg/auth/authorizer/rbac/rbac.go}: {@code RuleAllows}, with {@code *} matching anything).
 * <ul>
 *   <li>Verbs: POST create, GET get, PUT update, PATCH patch, DELETE delete; a GET or DELETE without an object name is
 *       list or deletecollection, a GET with {@code watch=true} is watch.</li>
 *   <li>A resource is {@code plural} or {@code plural/subresource}; core objects have the group {@code ""}.</li>
 *   <li>A WebSocket exec, attach or port-forward is a GET, authorized as {@code get} on {@code pods/exec}; since
 *       Kubernetes 1.35 ({@code AuthorizePodWebsocketUpgradeCreatePermission}, KEP-4006) the server also requires
 *       {@code create}. Both are required here, so a Role that passes works on every version.</li>
 *   <li>Paths that name no resource ({@code /version}, {@code /api}, {@code /apis/group/version}) and
 *       SelfSubjectAccessReviews are allowed: every authenticated user has them (system:discovery, system:basic-user).</li>
 * </ul>
 */
public final class Rbac {
    private static final Set<String> STREAMING = Set.of("exec", "attach", "portforward");

    private Rbac() {
    }

    /** One request's attributes; {@code verbs} are all the checks the server makes (two for a WebSocket exec). */
    public record Request(List<String> verbs, String group, String resource, String namespace, String name) {
        /** "verb resource[.group]" for each check, as a test reads them. */
        public List<String> checks() {
            return verbs.stream().map(v -> v + " " + resource + (group.isEmpty() ? "" : "." + group)).toList();
        }
    }

    /**
     * The attributes of a request, or null for one that needs no rule: a path naming no resource, or a
     * SelfSubjectAccessReview.
     */
    public static Request of(String method, String pathAndQuery) {
        String path = pathAndQuery.replaceAll("\\?.*", "");
        String query = pathAndQuery.contains("?") ? pathAndQuery.substring(pathAndQuery.indexOf('?') + 1) : "";
        List<String> parts = new ArrayList<>(List.of(path.replaceAll("^/+|/+$", "").split("/")));
        String group;
        if (parts.size() >= 3 && parts.get(0).equals("api")) {
            group = "";
            parts = parts.subList(2, parts.size());
        } else if (parts.size() >= 4 && parts.get(0).equals("apis")) {
            group = parts.get(1);
            parts = parts.subList(3, parts.size());
        } else {
            return null;
        }
        String namespace = "";
        if (parts.get(0).equals("namespaces") && parts.size() > 1) {
            namespace = parts.get(1);
            if (parts.size() > 2 && !Set.of("status", "finalize").contains(parts.get(2))) {
                parts = parts.subList(2, parts.size());
            }
        }
        String resource = parts.get(0);
        String name = parts.size() > 1 ? parts.get(1) : "";
        if (parts.size() > 2) {
            resource += "/" + parts.get(2);
        }
        if (resource.equals("selfsubjectaccessreviews") && group.equals("authorization.k8s.io")) {
            return null;
        }
        String verb = switch (method) {
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> name.isEmpty() ? "deletecollection" : "delete";
            default -> name.isEmpty() ? (query.matches("(^|.*&)watch=(true|1)(&.*|$)") ? "watch" : "list") : "get";
        };
        boolean streamingGet = verb.equals("get") && parts.size() > 2 && resource.startsWith("pods/") && STREAMING.contains(parts.get(2));
        return new Request(streamingGet ? List.of("get", "create") : List.of(verb), group, resource, namespace, name);
    }

    /** Rules of {@link Permissions} as a Role holds them. */
    public static List<PolicyRule> policyRules(List<Permissions.Rule> rules) {
        return rules.stream().map(r -> new PolicyRuleBuilder().withApiGroups(r.group()).withResources(r.resource()).withVerbs(r.verbs())
                .build()).toList();
    }

    /** True when the rules allow every check of the request. */
    public static boolean allows(List<PolicyRule> rules, Request request) {
        return request.verbs().stream().allMatch(verb -> rules.stream().anyMatch(rule -> allows(rule, verb, request)));
    }

    /** The verb, group and resource in attributes of an access review; true when the rules allow it. */
    public static boolean allows(List<PolicyRule> rules, String verb, String group, String resource, String name) {
        return allows(rules, new Request(List.of(verb), Objects.toString(group, ""), resource, "", Objects.toString(name, "")));
    }

    private static boolean allows(PolicyRule rule, String verb, Request r) {
        return matches(rule.getVerbs(), verb) && matches(rule.getApiGroups(), r.group()) && matches(rule.getResources(), r.resource())
                && (rule.getResourceNames() == null || rule.getResourceNames().isEmpty() || rule.getResourceNames().contains(r.name()));
    }

    private static boolean matches(List<String> granted, String wanted) {
        return granted != null && (granted.contains("*") || granted.contains(wanted));
    }

    /**
     * The message kube-apiserver gives a refused request (endpoints/handlers/responsewriters/errors.go, forbidden),
     * for the service account {@code user}: the first check the rules do not allow.
     */
    public static String forbidden(List<PolicyRule> rules, Request r, String user) {
        String qualified = r.resource().replaceAll("/.*", "") + (r.group().isEmpty() ? "" : "." + r.group());
        String verb = r.verbs().stream().filter(v -> rules.stream().noneMatch(rule -> allows(rule, v, r))).findFirst().orElseThrow();
        return (r.name().isEmpty() ? qualified : qualified + " \"" + r.name() + "\"") + " is forbidden: User \"" + user
                + "\" cannot " + verb + " resource \"" + r.resource() + "\" in API group \"" + r.group() + "\""
                + (r.namespace().isEmpty() ? " at the cluster scope" : " in the namespace \"" + r.namespace() + "\"");
    }
}
