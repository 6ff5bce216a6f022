package dev.difydr.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The test API server's authorizer derives what kube-apiserver derives from a request, and matches rules as RBAC does. */
class RbacTest {

    @Test
    void verbsResourcesAndNamespacesAreThoseOfTheApiServersRequestInfo() {
        assertThat(Rbac.of("GET", "/api/v1/namespaces/dify/pods?labelSelector=app%3Dapi"))
                .isEqualTo(new Rbac.Request(List.of("list"), "", "pods", "dify", ""));
        assertThat(Rbac.of("GET", "/api/v1/namespaces/dify/pods?watch=true")).extracting(Rbac.Request::verbs).isEqualTo(List.of("watch"));
        assertThat(Rbac.of("GET", "/apis/apps/v1/namespaces/dify/deployments/dify-api"))
                .isEqualTo(new Rbac.Request(List.of("get"), "apps", "deployments", "dify", "dify-api"));
        assertThat(Rbac.of("PATCH", "/apis/apps/v1/namespaces/dify/deployments/dify-api/scale"))
                .isEqualTo(new Rbac.Request(List.of("patch"), "apps", "deployments/scale", "dify", "dify-api"));
        assertThat(Rbac.of("PUT", "/apis/apps/v1/namespaces/dify/deployments/dify-api/status").checks()).containsExactly("update deployments/status.apps");
        assertThat(Rbac.of("POST", "/apis/coordination.k8s.io/v1/namespaces/dify/leases").checks()).containsExactly("create leases.coordination.k8s.io");
        assertThat(Rbac.of("DELETE", "/api/v1/namespaces/dify/secrets/s").checks()).containsExactly("delete secrets");
        assertThat(Rbac.of("DELETE", "/api/v1/namespaces/dify/secrets").checks()).containsExactly("deletecollection secrets");
        assertThat(Rbac.of("GET", "/api/v1/namespaces/dify")).isEqualTo(new Rbac.Request(List.of("get"), "", "namespaces", "dify", "dify"));
        assertThat(Rbac.of("GET", "/api/v1/nodes").checks()).containsExactly("list nodes");
    }

    @Test
    void aWebSocketExecIsAGetThatNeedsCreateToo() {
        assertThat(Rbac.of("GET", "/api/v1/namespaces/dify/pods/api-1/exec?command=tar&command=-cf&container=api&stdout=true").checks())
                .containsExactly("get pods/exec", "create pods/exec");
        assertThat(Rbac.of("POST", "/api/v1/namespaces/dify/pods/api-1/exec?command=tar").checks()).containsExactly("create pods/exec");

        Rbac.Request exec = Rbac.of("GET", "/api/v1/namespaces/dify/pods/api-1/exec?command=tar");
        assertThat(Rbac.allows(List.of(rule("", "pods/exec", "create")), exec)).isFalse();
        assertThat(Rbac.allows(List.of(rule("", "pods/exec", "get")), exec)).isFalse();
        assertThat(Rbac.allows(List.of(rule("", "pods/exec", "get", "create")), exec)).isTrue();
        assertThat(Rbac.allows(List.of(rule("", "pods/exec", "get"), rule("", "pods/exec", "create")), exec)).isTrue();
    }

    @Test
    void aRuleMatchesItsGroupResourceVerbAndNamesOrAWildcard() {
        Rbac.Request patch = Rbac.of("PATCH", "/apis/apps/v1/namespaces/dify/deployments/dify-api");
        assertThat(Rbac.allows(List.of(rule("apps", "deployments", "get", "list")), patch)).isFalse();
        assertThat(Rbac.allows(List.of(rule("", "deployments", "patch")), patch)).as("the core group is not apps").isFalse();
        assertThat(Rbac.allows(List.of(rule("apps", "deployments/scale", "patch")), patch)).isFalse();
        assertThat(Rbac.allows(List.of(rule("apps", "deployments", "patch")), patch)).isTrue();
        assertThat(Rbac.allows(List.of(rule("*", "*", "*")), patch)).isTrue();
        PolicyRule named = new PolicyRuleBuilder(rule("apps", "deployments", "patch")).withResourceNames("dify-web").build();
        assertThat(Rbac.allows(List.of(named), patch)).isFalse();
        assertThat(Rbac.allows(List.of(rule("apps", "deployments", "patch")), Rbac.of("PATCH",
                "/apis/apps/v1/namespaces/dify/deployments/dify-api/scale"))).as("a subresource needs its own rule").isFalse();
        assertThat(Rbac.allows(List.of(rule("", "pods", "list")), "list", "", "pods", null)).isTrue();
        assertThat(Rbac.allows(List.of(rule("", "pods", "list")), "create", "", "pods/exec", null)).isFalse();
    }

    @Test
    void requestsThatNameNoResourceAndAccessReviewsNeedNoRule() {
        assertThat(Rbac.of("GET", "/version")).isNull();
        assertThat(Rbac.of("GET", "/apis/apps/v1")).isNull();
        assertThat(Rbac.of("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).isNull();
    }

    @Test
    void aRefusalReadsAsKubeApiserversAndNamesTheFirstVerbRefused() {
        String user = "system:serviceaccount:dify-dr:dify-dr";
        assertThat(Rbac.forbidden(List.of(), Rbac.of("PATCH", "/apis/apps/v1/namespaces/dify/deployments/dify-api"), user))
                .isEqualTo("deployments.apps \"dify-api\" is forbidden: User \"system:serviceaccount:dify-dr:dify-dr\" cannot patch"
                        + " resource \"deployments\" in API group \"apps\" in the namespace \"dify\"");
        assertThat(Rbac.forbidden(List.of(), Rbac.of("GET", "/api/v1/namespaces/dify/pods"), user))
                .isEqualTo("pods is forbidden: User \"system:serviceaccount:dify-dr:dify-dr\" cannot list resource \"pods\" in API group \"\""
                        + " in the namespace \"dify\"");
        assertThat(Rbac.forbidden(List.of(rule("", "pods/exec", "get")), Rbac.of("GET", "/api/v1/namespaces/dify/pods/a/exec?command=ls"), user))
                .isEqualTo("pods \"a\" is forbidden: User \"system:serviceaccount:dify-dr:dify-dr\" cannot create resource \"pods/exec\""
                        + " in API group \"\" in the namespace \"dify\"");
    }

    private static PolicyRule rule(String group, String resource, String... verbs) {
        return new PolicyRuleBuilder().withApiGroups(group).withResources(resource).withVerbs(verbs).build();
    }
}
