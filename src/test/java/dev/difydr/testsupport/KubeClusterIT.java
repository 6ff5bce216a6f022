package dev.difydr.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Kubernetes test harness behaves like a cluster where it matters to a restore: pod environment, rollouts, status. */
class KubeClusterIT {
    private static final String DOUBAN = "/charts/douban-dify-0.9.1-release-dify.yaml";
    private static final String BORIS = "/charts/boris-dify-0.38.0-rc2-release-dify.yaml";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static Stream<Arguments> charts() {
        return Stream.of(
                Arguments.of("douban-dify-0.9.1-release-dify.yaml", "dify", "dify-api", "dify-plugin-daemon"),
                Arguments.of("douban-dify-0.9.1-release-prod.yaml", "prod-dify", "dify-api", "dify-plugin-daemon"),
                Arguments.of("boris-dify-0.38.0-rc2-release-dify.yaml", "dify", "api", "plugin-daemon"),
                Arguments.of("boris-dify-0.38.0-rc2-release-prod.yaml", "prod-dify", "api", "plugin-daemon"));
    }

    @ParameterizedTest
    @MethodSource("charts")
    void podsStartWithTheEnvironmentKubernetesWouldGiveThem(String file, String fullname, String apiContainer,
            String pluginContainer) {
        boolean douban = file.startsWith("douban");
        try (KubeCluster k = KubeCluster.start()) {
            k.secret("dify-credentials", KubeCluster.doubanCredentials("from-secret"));
            k.load("/charts/" + file);
            FakeController c = k.controller();

            Map<String, String> api = await(() -> c.podEnv(fullname + "-api", apiContainer), Objects::nonNull, "api pod");
            assertThat(api).containsEntry("DB_HOST", "pg.example.internal").containsEntry("DB_PORT", "5432")
                    .containsEntry("DB_DATABASE", "dify").containsEntry("DB_USERNAME", "dify")
                    .containsEntry("DB_PASSWORD", douban ? "from-secret" : "example-db-password");
            Map<String, String> plugin = await(() -> c.podEnv(fullname + "-plugin-daemon", pluginContainer), Objects::nonNull,
                    "plugin daemon pod");
            assertThat(plugin).containsEntry("DB_DATABASE", "dify_plugin");
            if (!douban) {
                Map<String, String> init = await(() -> c.podEnv(fullname + "-worker", "check-api"), Objects::nonNull, "worker pod");
                assertThat(init).containsEntry("DB_DATABASE", "dify").containsEntry("DB_PASSWORD", "example-db-password");
                assertThat(await(() -> c.podEnv(fullname + "-beat", "beat"), Objects::nonNull, "beat pod")).containsEntry("MODE", "beat");
            }

            List<Deployment> deployments = k.client().apps().deployments().list().getItems();
            assertThat(deployments).hasSize(douban ? 6 : 9);
            for (Deployment d : deployments) {
                Deployment ready = k.client().apps().deployments().withName(d.getMetadata().getName())
                        .waitUntilCondition(x -> x.getStatus() != null && Integer.valueOf(1).equals(x.getStatus().getReadyReplicas())
                                && Objects.equals(x.getStatus().getObservedGeneration(), x.getMetadata().getGeneration()), 10,
                                TimeUnit.SECONDS);
                assertThat(ready.getStatus().getUpdatedReplicas()).isEqualTo(1);
                assertThat(condition(ready, "Available").getStatus()).isEqualTo("True");
                assertThat(c.runningPods(d.getMetadata().getName())).isEqualTo(1);
            }
            String version = k.client().apps().deployments().withName(fullname + "-api").get().getMetadata().getResourceVersion();
            sleep(300);
            assertThat(k.client().apps().deployments().withName(fullname + "-api").get().getMetadata().getResourceVersion())
                    .as("a settled Deployment is not rewritten").isEqualTo(version);
        }
    }

    @Test
    void aConfigMapChangeReachesThePodOnlyWhenTheTemplateChanges() {
        try (KubeCluster k = KubeCluster.start()) {
            k.load(BORIS);
            FakeController c = k.controller();
            String pod = await(() -> c.podEnv("dify-api", "api"), Objects::nonNull, "api pod").get("DB_DATABASE");
            assertThat(pod).isEqualTo("dify");

            k.client().configMaps().withName("dify-api").edit(cm -> {
                cm.getData().put("DB_DATABASE", "dify_restored");
                return cm;
            });
            sleep(300);
            assertThat(c.podEnv("dify-api", "api")).containsEntry("DB_DATABASE", "dify");

            restart(k, "dify-api");
            await(() -> c.podEnv("dify-api", "api"), env -> env != null && "dify_restored".equals(env.get("DB_DATABASE")),
                    "api pod on the new database");
            assertThat(c.runningPods("dify-api")).isEqualTo(1);
        }
    }

    @Test
    void podsWaitForAMissingSecret() {
        try (KubeCluster k = KubeCluster.start()) {
            k.load(DOUBAN);
            FakeController c = k.controller();
            await(() -> c.runningPods("dify-sandbox"), n -> n == 1, "sandbox pod");
            assertThat(c.podEnv("dify-api", "dify-api")).isNull();
            assertThat(c.runningPods("dify-api")).isZero();

            k.secret("dify-credentials", KubeCluster.doubanCredentials("late"));
            assertThat(await(() -> c.podEnv("dify-api", "dify-api"), Objects::nonNull, "api pod")).containsEntry("DB_PASSWORD", "late");
        }
    }

    @Test
    void scalingFailedRolloutsPausingAndDeletion() {
        try (KubeCluster k = KubeCluster.start()) {
            k.secret("dify-credentials", KubeCluster.doubanCredentials("pw"));
            k.load(DOUBAN);
            FakeController c = k.controller();
            var api = k.client().apps().deployments().withName("dify-api");
            await(() -> c.podEnv("dify-api", "dify-api"), Objects::nonNull, "api pod");

            api.scale(0);
            Deployment down = api.waitUntilCondition(d -> Objects.equals(d.getStatus().getObservedGeneration(), d.getMetadata().getGeneration())
                    && d.getStatus().getReplicas() == null, 10, TimeUnit.SECONDS);
            assertThat(down.getStatus().getReadyReplicas()).isNull();
            assertThat(c.runningPods("dify-api")).isZero();
            assertThat(c.podEnv("dify-api", "dify-api")).isNull();

            c.failRollout("dify-api", true);
            api.scale(1);
            await(() -> c.runningPods("dify-api"), n -> n == 1, "a pod that never gets ready");
            Deployment stuck = api.waitUntilCondition(d -> d.getStatus().getConditions().stream().anyMatch(x -> "Progressing".equals(x.getType())
                    && "False".equals(x.getStatus()) && "ProgressDeadlineExceeded".equals(x.getReason())), 10, TimeUnit.SECONDS);
            assertThat(stuck.getStatus().getReadyReplicas()).isNull();
            assertThat(stuck.getStatus().getReplicas()).isEqualTo(1);
            assertThat(c.podEnv("dify-api", "dify-api")).isNull();

            c.failRollout("dify-api", false);
            sleep(200);
            assertThat(api.get().getStatus().getReadyReplicas()).as("pods that failed stay failed").isNull();
            restart(k, "dify-api");
            Deployment healed = api.waitUntilCondition(d -> Integer.valueOf(1).equals(d.getStatus().getReadyReplicas())
                    && Objects.equals(d.getStatus().getObservedGeneration(), d.getMetadata().getGeneration()), 10, TimeUnit.SECONDS);
            assertThat(condition(healed, "Progressing").getStatus()).isEqualTo("True");

            c.pause();
            api.scale(2);
            sleep(300);
            assertThat(c.runningPods("dify-api")).isEqualTo(1);
            assertThat(api.get().getStatus().getObservedGeneration()).isLessThan(api.get().getMetadata().getGeneration());
            c.resume();
            api.waitUntilCondition(d -> Integer.valueOf(2).equals(d.getStatus().getReadyReplicas()), 10, TimeUnit.SECONDS);
            assertThat(c.runningPods("dify-api")).isEqualTo(2);

            api.delete();
            await(() -> c.runningPods("dify-api"), n -> n == 0, "pods of a deleted Deployment gone");
        }
    }

    @Test
    void fakeDifyAnswersFromTheDatabaseItsPodStartedWith() throws Exception {
        try (PostgresServer pg = PostgresServer.start(); KubeCluster k = KubeCluster.start()) {
            String table = "CREATE TABLE dify_setups (version varchar(255) NOT NULL, setup_at timestamp NOT NULL DEFAULT now())";
            pg.createDatabase("dify");
            pg.psql("dify", "-c", table, "-c", "INSERT INTO dify_setups (version) VALUES ('1.10.1')");
            pg.createDatabase("dify_restored");
            pg.psql("dify_restored", "-c", table);
            pg.createDatabase("dify_plugin");
            k.load(BORIS);
            try (FakeDifyApi dify = FakeDifyApi.start(k, "dify-api", "api", "dify-plugin-daemon", "plugin-daemon",
                    Map.of("pg.example.internal:5432", pg)).appKey("app-secret")) {
                await(() -> get(dify.apiUrl() + "/health", null), r -> r.statusCode() == 200, "api up");
                assertThat(get(dify.apiUrl() + "/health", null).body()).contains("\"status\":\"ok\"");
                assertThat(get(dify.apiUrl() + "/console/api/ping", null).body()).isEqualTo("{\"result\":\"pong\"}");
                assertThat(get(dify.apiUrl() + "/console/api/setup", null).body()).contains("\"step\":\"finished\"");
                assertThat(get(dify.apiUrl() + "/v1/info", null).statusCode()).isEqualTo(401);
                assertThat(get(dify.apiUrl() + "/v1/info", "Bearer wrong").statusCode()).isEqualTo(401);
                assertThat(get(dify.apiUrl() + "/v1/info", "Bearer app-secret").statusCode()).isEqualTo(200);
                await(() -> get(dify.pluginDaemonUrl() + "/health/check", null), r -> r.statusCode() == 200, "plugin daemon up");

                k.client().configMaps().withName("dify-api").edit(cm -> {
                    cm.getData().put("DB_DATABASE", "dify_restored");
                    return cm;
                });
                sleep(300);
                assertThat(get(dify.apiUrl() + "/console/api/setup", null).body()).contains("\"step\":\"finished\"");
                restart(k, "dify-api");
                await(() -> get(dify.apiUrl() + "/console/api/setup", null), r -> r.body().equals("{\"step\":\"not_started\"}"),
                        "setup answered from the restored database");

                k.client().configMaps().withName("dify-api").edit(cm -> {
                    cm.getData().put("DB_DATABASE", "no_such_database");
                    return cm;
                });
                restart(k, "dify-api");
                HttpResponse<String> missing = await(() -> get(dify.apiUrl() + "/console/api/setup", null),
                        r -> r.statusCode() == 500, "setup failing on a missing database");
                assertThat(missing.body()).contains("no_such_database");

                k.client().configMaps().withName("dify-plugin-daemon").edit(cm -> {
                    cm.getData().put("DB_DATABASE", "no_such_database");
                    return cm;
                });
                restart(k, "dify-plugin-daemon");
                await(() -> get(dify.pluginDaemonUrl() + "/health/check", null), r -> r.statusCode() == 503,
                        "plugin daemon failing on a missing database");

                k.client().apps().deployments().withName("dify-api").scale(0);
                await(() -> get(dify.apiUrl() + "/health", null), r -> r.statusCode() == 503, "api down");
            }
        }
    }

    private static void restart(KubeCluster k, String deployment) {
        k.client().apps().deployments().withName(deployment).edit(d -> new DeploymentBuilder(d).editSpec().editTemplate()
                .editOrNewMetadata().addToAnnotations("kubectl.kubernetes.io/restartedAt", Instant.now().toString()).endMetadata()
                .endTemplate().endSpec().build());
    }

    private static DeploymentCondition condition(Deployment d, String type) {
        return d.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElseThrow();
    }

    private static HttpResponse<String> get(String url, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static <T> T await(Supplier<T> probe, Predicate<T> done, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        T last = null;
        while (System.nanoTime() < deadline) {
            last = probe.get();
            if (done.test(last)) {
                return last;
            }
            sleep(20);
        }
        throw new AssertionError("timed out waiting for " + what + "; last seen: " + last);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
