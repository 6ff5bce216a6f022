package dev.difydr.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.DrException;
import dev.difydr.testsupport.KubeCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Where a container's database settings come from, resolved as Kubernetes resolves them at container start, and
 * changed where they are kept.
 */
class DatabaseEnvIT {
    static KubeCluster cluster;
    static KubernetesClient k8s;

    @BeforeAll
    static void start() {
        cluster = KubeCluster.start();
        cluster.controller().pause();
        k8s = cluster.client();
        k8s.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("first").endMetadata()
                .withData(Map.of("DB_DATABASE", "from-first", "DB_HOST", "host-first", "PFX_DB_PORT", "1111")).build()).create();
        k8s.configMaps().resource(new ConfigMapBuilder().withNewMetadata().withName("second").endMetadata()
                .withData(Map.of("DB_DATABASE", "from-second")).build()).create();
        cluster.secret("creds", Map.of("DB_USERNAME", "dify", "DB_PASSWORD", "s3cret", "NAME", "from-secret"));
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static Deployment deployment(String name, String containers) {
        Deployment d = Serialization.unmarshal("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: %s, labels: {app.kubernetes.io/instance: t, app.kubernetes.io/component: api}}
                spec:
                  selector: {matchLabels: {app: %s}}
                  template:
                    metadata: {labels: {app: %s}}
                    spec:
                %s
                """.formatted(name, name, name, containers.indent(6)), Deployment.class);
        return k8s.apps().deployments().resource(d).create();
    }

    @Test
    void laterEnvFromSourcesWinAndInlineEnvWinsOverThem() {
        Deployment d = deployment("precedence", """
                containers:
                  - name: app
                    envFrom: [{configMapRef: {name: first}}, {configMapRef: {name: second}}, {prefix: PFX_, configMapRef: {name: first}}]
                    env:
                      - {name: DB_HOST, value: inline-host}
                      - {name: DB_USERNAME, valueFrom: {secretKeyRef: {name: creds, key: DB_USERNAME}}}
                """);

        DatabaseEnv.ContainerSettings s = new DatabaseEnv(k8s, "dify").read(d).get(0);

        assertThat(s.get("DB_DATABASE")).isEqualTo("from-second");
        assertThat(s.values().get("DB_DATABASE").source().describe()).isEqualTo("ConfigMap/second key DB_DATABASE");
        assertThat(s.get("DB_HOST")).isEqualTo("inline-host");
        assertThat(s.values().get("DB_HOST").source().describe()).isEqualTo("Deployment/precedence container app env DB_HOST");
        assertThat(s.get("DB_USERNAME")).isEqualTo("dify");
        assertThat(s.values().get("DB_USERNAME").source().describe()).isEqualTo("Secret/creds key DB_USERNAME");
        assertThat(s.values().get("DB_USERNAME").source().kind()).isEqualTo(EnvSource.Kind.SECRET);
        assertThat(s.get("DB_PORT")).as("prefix PFX_ does not make DB_PORT").isNull();
        assertThat(s.values().toString()).doesNotContain("s3cret");
    }

    @Test
    void initContainersCountAndTheLastInlineEntryWins() {
        Deployment d = deployment("init", """
                initContainers:
                  - name: wait
                    env: [{name: DB_DATABASE, valueFrom: {configMapKeyRef: {name: first, key: DB_DATABASE}}}]
                containers:
                  - name: app
                    env: [{name: DB_DATABASE, value: dify}, {name: X, value: y}, {name: DB_DATABASE, value: dify_plugin}]
                  - name: sidecar
                """);

        List<DatabaseEnv.ContainerSettings> settings = new DatabaseEnv(k8s, "dify").read(d);

        assertThat(settings).extracting(DatabaseEnv.ContainerSettings::container).containsExactly("wait", "app");
        assertThat(settings.get(0).get("DB_DATABASE")).isEqualTo("from-first");
        assertThat(settings.get(1).get("DB_DATABASE")).isEqualTo("dify_plugin");
        assertThat(settings.get(1).values().get("DB_DATABASE").source().index()).isEqualTo(2);
    }

    @Test
    void aFieldReferenceCannotBeRewiredAndSaysSo() {
        Deployment d = deployment("fieldref", """
                containers:
                  - name: app
                    env: [{name: DB_DATABASE, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
                """);

        assertThatThrownBy(() -> new DatabaseEnv(k8s, "dify").read(d)).isInstanceOf(DrException.class)
                .hasMessageContaining("DB_DATABASE of Deployment/fieldref container app comes from a field or resource reference");
    }

    @Test
    void rewiringChangesOnlyTheExpectedValueAndBackAgain() {
        deployment("rewire", """
                containers:
                  - name: app
                    env: [{name: DB_DATABASE, value: dify}, {name: DB_DATABASE, value: dify_plugin}]
                """);
        Rewiring rewiring = new Rewiring(k8s, "dify");
        EnvChange inline = new EnvChange(EnvSource.inline("rewire", "app", false, 1, "DB_DATABASE"), "dify_plugin", "plugin_copy", List.of("rewire"));
        EnvChange secret = new EnvChange(EnvSource.secret("creds", "NAME"), "from-secret", "changed", List.of("rewire"));

        assertThat(rewiring.apply(List.of(inline, secret), true).changed()).isEqualTo(2);
        assertThat(rewiring.apply(List.of(inline, secret), true).changed()).as("applying twice changes nothing").isZero();
        DatabaseEnv.ContainerSettings now = new DatabaseEnv(k8s, "dify").read("rewire").get(0);
        assertThat(now.get("DB_DATABASE")).isEqualTo("plugin_copy");
        assertThat(k8s.apps().deployments().withName("rewire").get().getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().get(0).getValue())
                .as("the shadowed first entry is left alone").isEqualTo("dify");
        assertThat(k8s.apps().deployments().withName("rewire").get().getSpec().getTemplate().getMetadata().getAnnotations())
                .containsKey("kubectl.kubernetes.io/restartedAt");

        assertThat(rewiring.apply(List.of(inline, secret), false).changed()).isEqualTo(2);
        assertThat(new DatabaseEnv(k8s, "dify").read("rewire").get(0).get("DB_DATABASE")).isEqualTo("dify_plugin");

        cluster.secret("creds", Map.of("DB_USERNAME", "dify", "DB_PASSWORD", "s3cret", "NAME", "someone-else"));
        Rewiring.Result refused = rewiring.apply(List.of(secret, inline), true);
        assertThat(refused.changed()).as("the other change is still made").isEqualTo(1);
        assertThat(refused.valueFailures()).singleElement().asString().contains("Secret/creds key NAME is 'someone-else', expected 'from-secret'");
    }
}
