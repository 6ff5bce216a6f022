package dev.difydr.backup;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.Failure;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.kube.DatabaseEnv;
import dev.difydr.kube.EnvChange;
import dev.difydr.kube.EnvSource;
import dev.difydr.kube.Rewiring;
import dev.difydr.kube.Workload;
import dev.difydr.kube.WorkloadDiscovery;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.restore.DatabaseSteps;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import dev.difydr.testsupport.KubeCluster;
import dev.difydr.testsupport.PostgresServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * After a restore Dify reads new databases: {@code postgres.databases: fromDify} backs up those (read from the rendered
 * charts' Deployments in the mock cluster, rewired as a restore rewires them), and a fixed list says loudly which
 * databases Dify reads that it lacks. A real PostgreSQL holds the old databases and the restored copies, which differ.
 */
class BackupFromDifyIT {
    static final String MAIN_COPY = "dify_restore_20261122t060000_ab12cd";
    static final String PLUGIN_COPY = "dify_plugin_restore_20261122t060000_ab12cd";
    static final Map<String, String> CHARTS = Map.of(
            "douban", "/charts/douban-dify-0.9.1-release-dify.yaml",
            "boris", "/charts/boris-dify-0.38.0-rc2-release-dify.yaml");

    @TempDir
    static Path tmp;
    static PostgresServer pg;
    static final Map<String, String> dumps = new LinkedHashMap<>();

    @TempDir
    Path dir;
    KubeCluster cluster;

    @BeforeAll
    static void start() throws IOException {
        pg = PostgresServer.start();
        pg.loadDifyFixtures();
        // The copies a restore made: the same schema, with data the originals lack.
        for (String[] copy : new String[][] {{"dify", MAIN_COPY}, {"dify_plugin", PLUGIN_COPY}}) {
            pg.psql("postgres", "-c", "CREATE DATABASE \"" + copy[1] + "\" TEMPLATE \"" + copy[0] + "\"");
            pg.psql(copy[1], "-c", "CREATE TABLE written_after_the_restore (note text); INSERT INTO written_after_the_restore VALUES ('only in " + copy[1] + "')");
        }
        for (String db : List.of("dify", "dify_plugin", MAIN_COPY, PLUGIN_COPY)) {
            dumps.put(db, pg.comparableDump(db));
        }
        Files.writeString(tmp.resolve("pg-password"), pg.password() + "\n");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void stopCluster() {
        System.clearProperty("kubernetes.master");
        System.clearProperty("kubernetes.auth.tryKubeConfig");
        System.clearProperty("kubernetes.auth.tryServiceAccount");
        if (cluster != null) {
            cluster.close();
        }
    }

    void startCluster(String chart) {
        cluster = KubeCluster.start();
        cluster.controller().pause();
        cluster.secret("dify-credentials", KubeCluster.doubanCredentials(DifyTestbed.DIFY_PASSWORD));
        cluster.load(CHARTS.get(chart));
        useCluster(cluster.url());
    }

    static void useCluster(String url) {
        System.setProperty("kubernetes.master", url);
        System.setProperty("kubernetes.auth.tryKubeConfig", "false");
        System.setProperty("kubernetes.auth.tryServiceAccount", "false");
    }

    /** Points every DB_DATABASE where it is kept (inline env, ConfigMap) at another database, as a restore's rewire does. */
    void rewire(Map<String, String> to) {
        KubernetesConfig kubernetes = new KubernetesConfig(KubeCluster.NAMESPACE, "dify", null, null, null, null);
        Map<EnvSource, EnvChange> changes = new LinkedHashMap<>();
        for (Workload w : new WorkloadDiscovery(cluster.client(), kubernetes).discover()) {
            for (DatabaseEnv.ContainerSettings s : w.database()) {
                DatabaseEnv.Value v = s.values().get(DatabaseEnv.DATABASE);
                String target = to.get(v.value());
                if (target != null) {
                    changes.computeIfAbsent(v.source(), k -> new EnvChange(k, v.value(), target, new ArrayList<>())).deployments().add(w.name());
                }
            }
        }
        assertThat(new Rewiring(cluster.client(), KubeCluster.NAMESPACE).apply(List.copyOf(changes.values()), true).changed()).isPositive();
    }

    Path config(String databases, boolean kubernetes) throws IOException {
        Path file = dir.resolve("dify-dr.yaml");
        Files.writeString(file, """
                repository:
                  url: %s
                """.formatted(dir.resolve("repo").toUri())
                + pg.postgresYaml(tmp.resolve("pg-password")).replace("databases: [dify, dify_plugin]", "databases: " + databases)
                + (kubernetes ? "kubernetes: {namespace: dify, release: dify}\n" : ""));
        return file;
    }

    static CliRun cli(Path config, String... args) {
        return CliRun.withConfig(config, args);
    }

    /** The backup's manifest as the repository holds it. */
    Manifest manifest(String id) {
        try (Repository repository = new Repository(new FileObjectStore(dir.resolve("repo")), "dify")) {
            return repository.resolve(id);
        }
    }

    /** Restores an artifact with zstd and pg_restore only, and returns what the database then holds. */
    String restoredContent(JsonNode artifact) throws IOException {
        String scratch = "scratch_" + Long.toHexString(System.nanoTime());
        pg.restoreWithStandardTools(dir.resolve("repo").resolve(artifact.get("path").asText()), scratch);
        try {
            return pg.comparableDump(scratch);
        } finally {
            pg.psql("postgres", "-c", "DROP DATABASE \"" + scratch + "\"");
        }
    }

    static List<String> names(JsonNode artifacts) {
        List<String> out = new ArrayList<>();
        artifacts.forEach(a -> out.add(a.get("name").asText()));
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"douban", "boris"})
    void fromDifyBacksUpTheDatabasesDifyReadsAfterARestore(String chart) throws IOException {
        startCluster(chart);
        rewire(Map.of("dify", MAIN_COPY, "dify_plugin", PLUGIN_COPY));

        CliRun run = cli(config("fromDify", true), "--json", "backup");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode result = DifyTestbed.json(run.out());
        assertThat(result.has("warnings")).as(run.out()).isFalse();
        JsonNode artifacts = result.get("artifacts");
        assertThat(names(artifacts)).containsExactly(MAIN_COPY, PLUGIN_COPY);
        String id = result.get("id").asText();
        assertThat(artifacts.get(0).get("path").asText()).isEqualTo("dify/backups/" + id + "/postgres/" + MAIN_COPY + ".dump.zst");
        assertThat(restoredContent(artifacts.get(0))).isEqualTo(dumps.get(MAIN_COPY)).isNotEqualTo(dumps.get("dify"));
        assertThat(restoredContent(artifacts.get(1))).isEqualTo(dumps.get(PLUGIN_COPY)).isNotEqualTo(dumps.get("dify_plugin"));

        Manifest m = manifest(id);
        assertThat(m.postgres().databases()).extracting(d -> d.name() + " " + d.roles())
                .containsExactly(MAIN_COPY + " [main]", PLUGIN_COPY + " [plugin]");
        assertThat(m.postgres().databases().get(0).rowCounts()).isNotEmpty();
        assertThat(m.warnings()).isNull();
        assertThat(DatabaseSteps.mainDatabase(m)).as("the restore's choice of the main dump").isEqualTo(MAIN_COPY);
        assertThat(run.logs()).contains("postgres.databases is fromDify: '" + MAIN_COPY + "' (api (");

        CliRun show = cli(config("fromDify", true), "show", id);
        assertThat(show.out()).contains("  " + MAIN_COPY + " (Dify's main database): ").contains("  " + PLUGIN_COPY + " (Dify's plugin database): ");
    }

    @Test
    void aFixedListIsCheckedAgainstWhatDifyReadsAndWarnsLoudly() throws IOException {
        startCluster("douban");
        Path config = config("[dify, dify_plugin]", true);

        CliRun before = cli(config, "--json", "backup");
        assertThat(before.code()).as(before.everything()).isZero();
        JsonNode clean = DifyTestbed.json(before.out());
        assertThat(clean.has("warnings")).as("Dify reads exactly the listed databases").isFalse();
        assertThat(manifest(clean.get("id").asText()).postgres().databases()).extracting(d -> d.name() + " " + d.roles())
                .containsExactly("dify [main]", "dify_plugin [plugin]");

        rewire(Map.of("dify", MAIN_COPY, "dify_plugin", PLUGIN_COPY));
        CliRun run = cli(config, "--json", "backup");

        assertThat(run.code()).as("a warning does not fail the backup: %s", run.everything()).isZero();
        JsonNode result = DifyTestbed.json(run.out());
        assertThat(names(result.get("artifacts"))).containsExactly("dify", "dify_plugin");
        List<String> warnings = new ArrayList<>();
        result.get("warnings").forEach(w -> warnings.add(w.asText()));
        assertThat(warnings).containsExactly(
                "Dify's api (dify-api), worker (dify-worker) and beat (dify-worker-beat) read database '" + MAIN_COPY
                        + "', which this backup does not include (it backs up [dify, dify_plugin]): set postgres.databases: fromDify,"
                        + " or add '" + MAIN_COPY + "' to the list",
                "Dify's plugin-daemon (dify-plugin-daemon) reads database '" + PLUGIN_COPY
                        + "', which this backup does not include (it backs up [dify, dify_plugin]): set postgres.databases: fromDify,"
                        + " or add '" + PLUGIN_COPY + "' to the list");
        assertThat(run.logs()).containsPattern("WARN .*Dify's api \\(dify-api\\).* read database '" + MAIN_COPY + "', which this backup does not include");
        Manifest m = manifest(result.get("id").asText());
        assertThat(m.warnings()).containsExactlyElementsOf(warnings);
        assertThat(m.postgres().databases()).allSatisfy(d -> assertThat(d.roles()).as("Dify reads neither now").isNull());

        CliRun text = cli(config, "backup");
        assertThat(text.code()).isZero();
        assertThat(text.out()).contains("  WARNING: Dify's api (dify-api)");
        CliRun show = cli(config, "show", "latest");
        assertThat(show.out()).contains("warning     Dify's plugin-daemon (dify-plugin-daemon) reads database '" + PLUGIN_COPY + "'");
        CliRun check = cli(config, "config", "check");
        assertThat(check.out()).containsPattern("(?m)^ok +postgres +PostgreSQL .*databases 'dify', 'dify_plugin' reachable.*"
                + "; WARNING: Dify's api \\(dify-api\\), worker \\(dify-worker\\) and beat \\(dify-worker-beat\\) read database '" + MAIN_COPY + "'");
        CliRun checkFromDify = cli(config("fromDify", true), "config", "check");
        assertThat(checkFromDify.out()).containsPattern("(?m)^ok +postgres +PostgreSQL .*databases '" + MAIN_COPY + "', '" + PLUGIN_COPY + "' reachable")
                .doesNotContain("WARNING");
    }

    @Test
    void aPluginDaemonOnTheMainDatabaseMeansOneDump() throws IOException {
        startCluster("boris");
        rewire(Map.of("dify", MAIN_COPY, "dify_plugin", MAIN_COPY));

        CliRun run = cli(config("fromDify", true), "--json", "backup");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode result = DifyTestbed.json(run.out());
        assertThat(names(result.get("artifacts"))).containsExactly(MAIN_COPY);
        assertThat(manifest(result.get("id").asText()).postgres().databases()).extracting(d -> d.name() + " " + d.roles())
                .containsExactly(MAIN_COPY + " [main, plugin]");
    }

    @Test
    void anUnreachableClusterIsAWarningForAListAndAFailureForFromDify() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        useCluster("http://127.0.0.1:" + closed);

        CliRun listed = cli(config("[dify, dify_plugin]", true), "--json", "backup");

        assertThat(listed.code()).as(listed.everything()).isZero();
        JsonNode result = DifyTestbed.json(listed.out());
        assertThat(names(result.get("artifacts"))).containsExactly("dify", "dify_plugin");
        assertThat(result.get("warnings").get(0).asText()).startsWith("cannot read from Kubernetes which databases Dify reads (")
                .contains("127.0.0.1:" + closed).endsWith("backing up the configured [dify, dify_plugin]");

        CliRun fromDify = cli(config("fromDify", true), "--json", "backup");

        assertThat(fromDify.code()).as(fromDify.everything()).isEqualTo(Failure.KUBERNETES.exitCode());
        JsonNode failed = DifyTestbed.json(fromDify.out());
        assertThat(failed.get("status").asText()).isEqualTo("failed");
        assertThat(failed.get("error").get("message").asText())
                .startsWith("postgres.databases is fromDify, but the databases Dify reads cannot be read from Kubernetes: ")
                .contains("or list the databases in postgres.databases");
        assertThat(failed.get("artifacts")).isEmpty();
    }

    @Test
    void fromDifyWithoutAKubernetesSectionIsAConfigurationError() throws IOException {
        Path config = config("fromDify", false);

        CliRun run = cli(config, "backup");

        assertThat(run.code()).isEqualTo(Failure.CONFIG.exitCode()).isEqualTo(3);
        assertThat(run.err()).contains("postgres.databases: fromDify reads the databases from Dify's Deployments and needs the kubernetes section");
    }
}
