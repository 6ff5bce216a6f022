package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Role that charts/dify-dr renders for a configuration, bound as the only permission of the process that restores
 * with that configuration: the test API server then authorizes every request as kube-apiserver's RBAC does and
 * records it. A restore, its HPA warning and its rollback on each community chart make no call the Role refuses.
 */
class RestoreWithinRoleIT extends RestoreTestBase {

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void aRestoreAndItsRollbackCallOnlyWhatTheChartsRoleGrants(DifyChart chart) throws IOException {
        start(chart);
        k8s().autoscaling().v2().horizontalPodAutoscalers().resource(new HorizontalPodAutoscalerBuilder().withNewMetadata()
                .withName("api").withNamespace(cluster.namespace()).endMetadata().withNewSpec().withMinReplicas(1).withMaxReplicas(3)
                .withNewScaleTargetRef().withApiVersion("apps/v1").withKind("Deployment").withName(chart.api()).endScaleTargetRef()
                .endSpec().build()).create();
        Path config = config("");
        List<Role> roles = chartRoles(config);
        assertThat(roles).extracting(r -> r.getMetadata().getNamespace()).containsExactly(cluster.namespace());
        cluster.enforce(roles);

        CliRun plan = cliWith(config, "restore", "latest", "--plan");
        assertThat(plan.code()).as(plan.everything()).isZero();
        CliRun run = cliWith(config, "--json", "restore", "latest", "--yes");
        assertThat(run.code()).as(run.everything()).isZero();
        assertThat(run.everything()).contains("HorizontalPodAutoscaler api scales " + chart.api());
        String id = DifyTestbed.json(run.out()).get("id").asText();
        CliRun rollback = cliWith(config, "restore", "--rollback", id);
        assertThat(rollback.code()).as(rollback.everything()).isZero();

        assertThat(cluster.refused()).as(String.join("\n", cluster.calls())).isEmpty();
        assertThat(cluster.checks()).as("what the restore was seen to do").contains("get deployments.apps", "list deployments.apps",
                "patch deployments.apps", "list pods", "get secrets",
                "create leases.coordination.k8s.io", "get leases.coordination.k8s.io", "delete leases.coordination.k8s.io",
                "list horizontalpodautoscalers.autoscaling");
        assertThat(replicas(chart.api())).isEqualTo(1);
        assertThat(databaseOf(chart.api(), chart.apiContainer())).isEqualTo("dify");
    }

    @Test
    void aRoleWithoutOneOfTheRulesStopsTheRestoreInPreflightWithNothingChanged() throws IOException {
        DifyChart chart = DifyChart.boris("prod");
        start(chart);
        String before = clusterState();
        Path config = config("");
        Role role = chartRoles(config).get(0);
        Role withoutPatch = new RoleBuilder(role).withRules(role.getRules().stream()
                .filter(r -> !r.getResources().equals(List.of("deployments"))).toList())
                .addNewRule().withApiGroups("apps").withResources("deployments").withVerbs("get", "list").endRule().build();
        cluster.enforce(List.of(withoutPatch));

        CliRun run = cliWith(config, "restore", "latest", "--yes");

        assertThat(run.code()).as(run.everything()).isEqualTo(10);
        assertThat(run.everything()).contains("may not patch apps/deployments in namespace dify");
        assertThat(cluster.refused()).isEmpty();
        assertThat(clusterState()).isEqualTo(before);
    }
}
