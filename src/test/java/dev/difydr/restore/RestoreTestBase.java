package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.chart.HelmChart;
import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Repository;
import dev.difydr.store.Stores;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import dev.difydr.testsupport.FakeDifyApi;
import dev.difydr.testsupport.KubeCluster;
import dev.difydr.testsupport.PostgresServer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * One PostgreSQL server with Dify's databases and a backup of them (per test class), and per test a fresh mock
 * cluster holding one rendered chart, run by the fake controller, with a fake Dify API in front that answers from
 * whichever database its running api pod was started against.
 */
abstract class RestoreTestBase {
    static final String DIFY_HOST = "pg.example.internal:5432";
    static final String APP_KEY = "app-" + Long.toHexString(System.nanoTime());

    @TempDir
    static Path tmp;
    static DifyTestbed tb;

    KubeCluster cluster;
    FakeDifyApi api;
    DifyChart chart;

    @BeforeAll
    static void startServer() {
        tb = DifyTestbed.start(tmp);
    }

    @AfterAll
    static void stopServer() {
        if (tb != null) {
            tb.close();
        }
    }

    @AfterEach
    void stopCluster() {
        System.clearProperty("kubernetes.master");
        System.clearProperty("http2.disable");
        if (api != null) {
            api.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        tb.dropCopies();
    }

    static Stream<DifyChart> charts() {
        return Stream.of(DifyChart.douban("dify"), DifyChart.douban("prod"), DifyChart.boris("dify"), DifyChart.boris("prod"));
    }

    void start(DifyChart chart, Map<String, PostgresServer> extraServers) {
        this.chart = chart;
        cluster = KubeCluster.start();
        cluster.secret("dify-credentials", KubeCluster.doubanCredentials("example-db-password"));
        cluster.load(chart.file());
        Map<String, PostgresServer> servers = new TreeMap<>(extraServers);
        servers.put(DIFY_HOST, tb.pg);
        api = FakeDifyApi.start(cluster, chart.api(), chart.apiContainer(), chart.plugin(), chart.pluginContainer(), servers)
                .appKey(APP_KEY);
        cluster.secret("dify-smoke", Map.of("APP_KEY", APP_KEY));
        System.setProperty("kubernetes.master", cluster.url());
        System.setProperty("kubernetes.auth.tryKubeConfig", "false");
        System.setProperty("kubernetes.auth.tryServiceAccount", "false");
        // The CLI's JDK client would otherwise try an h2c upgrade on this plain-HTTP server, a known race in the mock that
        // now and then leaves a request unanswered for good; a real API server speaks TLS and negotiates HTTP/2 by ALPN.
        System.setProperty("http2.disable", "true");
        awaitPods(chart.api(), 1);
    }

    void start(DifyChart chart) {
        start(chart, Map.of());
    }

    Path config(String extra) {
        return config("", extra);
    }

    Path config(String restore, String extra) {
        return tb.config("restore", restore, """
                kubernetes:
                  namespace: dify
                  release: %s
                  scaleDownTimeoutSeconds: 20
                  rolloutTimeoutSeconds: 20
                  pollSeconds: 0.05
                smoke:
                  api: %s
                  pluginDaemon: %s
                  appKeySecret: {name: dify-smoke, key: APP_KEY}
                  deadlineSeconds: 5
                  intervalSeconds: 0.1
                """.formatted(chart.release(), api.apiUrl(), api.pluginDaemonUrl()) + extra);
    }

    /** The Roles charts/dify-dr renders ({@code helm template}) with {@code config} as the chart's configuration. */
    static List<Role> chartRoles(Path config) {
        try {
            String values = "image: {repository: registry.example.com/dify-dr, tag: 0.1.0}\nconfig:\n" + Files.readString(config).indent(2);
            return HelmChart.all(HelmChart.objects(HelmChart.template(values, tmp)), Role.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    CliRun cli(String... args) {
        return cliWith(config(""), args);
    }

    static CliRun cliWith(Path config, String... args) {
        return CliRun.withConfig(config, args);
    }

    RestoreWorkflow workflow(StepListener listener) {
        Config config = new ConfigLoader().load(config(""));
        Repository repository = new Repository(Stores.open(config.repository()), config.deployment());
        JournalStore journals = new JournalStore(repository, tmp.resolve("state"));
        return new RestoreWorkflow(config, repository, cluster.client(), journals, label -> Progress.none(), listener, Clock.systemUTC());
    }

    static RestoreWorkflow.Request latest() {
        return new RestoreWorkflow.Request("latest", List.of(), null, false, Map.of(), java.util.Set.of(), false, false, false);
    }

    static String copyOf(String database) {
        return TargetNames.copyName(database, "restore", tb.backupId);
    }

    KubernetesClient k8s() {
        return cluster.client();
    }

    int replicas(String deployment) {
        Integer r = k8s().apps().deployments().withName(deployment).get().getSpec().getReplicas();
        return r == null ? 1 : r;
    }

    void scale(String deployment, int replicas) {
        // A patch, not edit(): the controller's status writes would make an edit's resourceVersion stale.
        k8s().apps().deployments().withName(deployment).patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/spec/replicas\",\"value\":" + replicas + "}]");
        awaitPods(deployment, replicas);
    }

    /** The database a running container was started against. */
    String databaseOf(String deployment, String container) {
        Map<String, String> env = cluster.controller().podEnv(deployment, container);
        assertThat(env).as("a ready pod of %s", deployment).isNotNull();
        return env.get("DB_DATABASE");
    }

    void awaitPods(String deployment, int count) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (cluster.controller().runningPods(deployment) != count || count > 0 && cluster.controller().podEnv(deployment, containerOf(deployment)) == null) {
            assertThat(System.nanoTime() - deadline).as("%s reaches %d pods", deployment, count).isNegative();
            sleep(50);
        }
    }

    private String containerOf(String deployment) {
        Deployment d = k8s().apps().deployments().withName(deployment).get();
        return d.getSpec().getTemplate().getSpec().getContainers().get(0).getName();
    }

    /**
     * What a restore may change, as text: every Deployment's replicas and pod template (without the restart
     * annotation) and every ConfigMap's and Secret's data. Equal before and after means Dify is as it was.
     */
    String clusterState() {
        List<String> lines = new java.util.ArrayList<>();
        StringBuilder sb = new StringBuilder();
        for (Deployment d : k8s().apps().deployments().list().getItems()) {
            var template = d.getSpec().getTemplate();
            if (template.getMetadata().getAnnotations() != null) {
                template.getMetadata().getAnnotations().remove("kubectl.kubernetes.io/restartedAt");
                if (template.getMetadata().getAnnotations().isEmpty()) {
                    template.getMetadata().setAnnotations(null);
                }
            }
            sb.append(d.getMetadata().getName()).append(" replicas=").append(d.getSpec().getReplicas()).append(' ')
                    .append(Serialization.asJson(template)).append('\n');
        }
        for (ConfigMap cm : k8s().configMaps().list().getItems()) {
            sb.append("cm ").append(cm.getMetadata().getName()).append(' ').append(new TreeMap<>(cm.getData() == null ? Map.of() : cm.getData())).append('\n');
        }
        k8s().secrets().list().getItems().forEach(s -> sb.append("secret ").append(s.getMetadata().getName()).append(' ')
                .append(new TreeMap<>(s.getData() == null ? Map.of() : s.getData())).append('\n'));
        // The mock lists objects in no fixed order.
        lines.addAll(List.of(sb.toString().split("\n")));
        java.util.Collections.sort(lines);
        return String.join("\n", lines);
    }

    /** Dify's writers run against the databases they read before the restore, with the replicas they had. */
    void assertDifyAsBefore(String stateBefore) {
        assertThat(clusterState()).isEqualTo(stateBefore);
        for (String[] w : new String[][] {{chart.api(), chart.apiContainer()}, {chart.worker(), chart.workerContainer()}, {chart.beat(), chart.beatContainer()}}) {
            awaitPods(w[0], replicas(w[0]));
            assertThat(databaseOf(w[0], w[1])).as(w[0]).isEqualTo("dify");
        }
        awaitPods(chart.plugin(), 1);
        assertThat(databaseOf(chart.plugin(), chart.pluginContainer())).isEqualTo("dify_plugin");
    }

    /** Starts {@code mainClass} of the test class path in another JVM, talking to this cluster, its output in {@code log}. */
    Process spawnJava(Path log, String mainClass, String... args) throws java.io.IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(Map.of("KUBERNETES_MASTER", cluster.url(), "KUBERNETES_AUTH_TRYKUBECONFIG", "false",
                "KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false", "HTTP2_DISABLE", "true"));
        return pb.start();
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
