package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import dev.difydr.testsupport.PostgresServer;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Plan, restore and rollback through the command line on both community charts under two release names each. */
class RestoreWorkflowIT extends RestoreTestBase {

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void planShowsEveryTargetAndChangesNothing(DifyChart chart) {
        start(chart);
        String before = clusterState();
        List<String> journalsBefore = journals();

        CliRun run = cli("restore", "latest", "--plan");

        assertThat(run.code()).as(run.everything()).isZero();
        String main = copyOf("dify");
        String plugin = copyOf("dify_plugin");
        assertThat(run.out())
                .contains(chart.api() + " (api) 1 -> 0", chart.worker() + " (worker) 1 -> 0", chart.beat() + " (beat) 1 -> 0",
                        chart.plugin() + " (plugin-daemon) 1 -> 0")
                .contains("create " + main + " (owner dify) from dify/backups/" + tb.backupId + "/postgres/dify.dump.zst")
                .contains("create " + plugin + " (owner dify)")
                .contains("setup finished: GET " + api.apiUrl() + "/console/api/setup expects 200 with step=finished")
                .contains("plugin daemon health: GET " + api.pluginDaemonUrl() + "/health/check")
                .contains("app key: GET " + api.apiUrl() + "/v1/info expects 200")
                .contains("Not touched: ").contains(chart.web() + " (web)").contains(chart.sandbox() + " (sandbox)");
        if (chart.boris()) {
            assertThat(run.out())
                    .contains("ConfigMap/" + chart.api() + " key DB_DATABASE: dify -> " + main + " (read by " + chart.api() + ")")
                    .contains("ConfigMap/" + chart.worker() + " key DB_DATABASE: dify -> " + main + " (read by " + chart.worker() + ", " + chart.beat() + ")")
                    .contains("ConfigMap/" + chart.plugin() + " key DB_DATABASE: dify_plugin -> " + plugin);
        } else {
            assertThat(run.out())
                    .contains("Deployment/" + chart.api() + " container dify-api env DB_DATABASE: dify -> " + main)
                    .contains("Deployment/" + chart.beat() + " container dify env DB_DATABASE: dify -> " + main)
                    .contains("Deployment/" + chart.plugin() + " container dify-plugin-daemon env DB_DATABASE: dify_plugin -> " + plugin)
                    .doesNotContain("DB_DATABASE: dify -> " + main + " (read by " + chart.plugin());
        }
        assertThat(clusterState()).isEqualTo(before);
        assertThat(tb.databases()).doesNotContain(main, plugin);
        assertThat(journals()).isEqualTo(journalsBefore);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void restoreRewiresScalesBackToRecordedReplicasAndPassesSmokeChecks(DifyChart chart) {
        start(chart);
        scale(chart.api(), 2);
        String before = clusterState();
        String setup = tb.pg.psql("dify", "-At", "-c", "SELECT version || '|' || setup_at FROM dify_setups").strip();
        // The live database loses its set-up row: only a Dify rewired to the restored copy passes the setup check.
        tb.pg.psql("dify", "-c", "DELETE FROM dify_setups");
        try {
            CliRun run = cli("--json", "restore", "latest", "--yes");

            assertThat(run.code()).as(run.everything()).isZero();
            JsonNode journal = DifyTestbed.json(run.out());
            assertThat(journal.get("state").asText()).isEqualTo("completed");
            assertThat(journal.get("smoke")).hasSize(5).allSatisfy(r -> assertThat(r.get("ok").asBoolean()).as(r.toString()).isTrue());
            String main = copyOf("dify");
            String plugin = copyOf("dify_plugin");
            assertThat(replicas(chart.api())).isEqualTo(2);
            assertThat(replicas(chart.worker())).isEqualTo(1);
            assertThat(replicas(chart.plugin())).isEqualTo(1);
            assertThat(databaseOf(chart.api(), chart.apiContainer())).isEqualTo(main);
            assertThat(databaseOf(chart.worker(), chart.workerContainer())).isEqualTo(main);
            assertThat(databaseOf(chart.beat(), chart.beatContainer())).isEqualTo(main);
            assertThat(databaseOf(chart.plugin(), chart.pluginContainer())).isEqualTo(plugin);
            assertThat(tb.pg.comparableDump(main)).isEqualTo(tb.backedUpDumps.get("dify"));
            assertThat(tb.pg.comparableDump(plugin)).isEqualTo(tb.backedUpDumps.get("dify_plugin"));
            assertThat(tb.pg.psql("postgres", "-At", "-c", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '" + main + "'").strip())
                    .isEqualTo("dify");
            Deployment web = k8s().apps().deployments().withName(chart.web()).get();
            assertThat(web.getSpec().getTemplate().getMetadata().getAnnotations() == null ? Map.of() : web.getSpec().getTemplate().getMetadata().getAnnotations())
                    .doesNotContainKey("kubectl.kubernetes.io/restartedAt");
            String id = journal.get("id").asText();
            assertThat(run.logs()).contains("restore " + id + " starting; journal: ");
            assertThat(tb.repository.resolve("dify/restores/" + id + "/journal.json")).exists();
            assertThat(tmp.resolve("state/dify/restores/" + id + "/journal.json")).exists();
            assertThat(run.everything()).doesNotContain(tb.pg.password()).doesNotContain(DifyTestbed.DIFY_PASSWORD).doesNotContain(APP_KEY);
            assertThat(tb.repository.resolve("dify/restores/" + journal.get("id").asText() + "/journal.json")).content()
                    .doesNotContain(APP_KEY).doesNotContain(DifyTestbed.DIFY_PASSWORD);
            assertThat(k8s().leases().withName("dify-dr-restore").get()).as("restore lock released").isNull();

            tb.pg.psql("dify", "-c", "INSERT INTO dify_setups VALUES ('" + setup.replace("|", "', '") + "')");
            CliRun rollback = cli("restore", "--rollback", id);

            assertThat(rollback.code()).as(rollback.everything()).isZero();
            assertThat(rollback.out()).contains("rolled back").contains("The restored copies were kept: " + main + ", " + plugin);
            assertDifyAsBefore(before);
            assertThat(tb.databases()).contains(main, plugin, "dify", "dify_plugin");
        } finally {
            if (tb.pg.psql("dify", "-At", "-c", "SELECT count(*) FROM dify_setups").strip().equals("0")) {
                tb.pg.psql("dify", "-c", "INSERT INTO dify_setups VALUES ('" + setup.replace("|", "', '") + "')");
            }
        }
    }

    /** Stands for the process dying: not an exception the workflow handles, so the journal stays as it was. */
    private static final class Crash extends Error {
        Crash(String step) {
            super("crashed after " + step);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void crashAfterRewireThenResumeEndsWithRecordedReplicasAndRestoredDatabases(DifyChart chart) {
        start(chart);
        scale(chart.worker(), 2);
        RestoreWorkflow crashing = workflow(new StepListener() {
            @Override
            public void after(String step) {
                if (step.equals("rewire")) {
                    throw new Crash(step);
                }
            }
        });
        Journal planned = crashing.plan(latest());
        try {
            crashing.run(planned);
            throw new AssertionError("the crash did not happen");
        } catch (Crash expected) {
            // Dify is now stopped and rewired; only the journal knows the replicas it had
        }
        assertThat(replicas(chart.api())).isZero();
        assertThat(replicas(chart.worker())).isZero();
        // Resumed from another machine: only the repository's copy of the journal is there.
        java.nio.file.Path local = tmp.resolve("state/dify/restores/" + planned.id + "/journal.json");
        assertThat(local).exists();
        try {
            java.nio.file.Files.delete(local);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }

        CliRun resumed = cli("--json", "restore", "--resume", planned.id);

        assertThat(resumed.code()).as(resumed.everything()).isZero();
        JsonNode journal = DifyTestbed.json(resumed.out());
        assertThat(journal.get("state").asText()).isEqualTo("completed");
        assertThat(replicas(chart.api())).isEqualTo(1);
        assertThat(replicas(chart.worker())).isEqualTo(2);
        assertThat(databaseOf(chart.api(), chart.apiContainer())).isEqualTo(copyOf("dify"));
        assertThat(databaseOf(chart.worker(), chart.workerContainer())).isEqualTo(copyOf("dify"));
        assertThat(databaseOf(chart.plugin(), chart.pluginContainer())).isEqualTo(copyOf("dify_plugin"));
        assertThat(tb.pg.comparableDump(copyOf("dify_plugin"))).isEqualTo(tb.backedUpDumps.get("dify_plugin"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void restoreOntoAnotherServerRewiresHostAndPort(DifyChart chart) throws java.io.IOException {
        try (PostgresServer other = PostgresServer.start()) {
            other.psql("postgres", "-c", "CREATE ROLE dify LOGIN PASSWORD '" + DifyTestbed.DIFY_PASSWORD + "'");
            String otherHost = other.host() + ":" + other.port();
            start(chart, Map.of(otherHost, other));
            java.nio.file.Files.writeString(tmp.resolve("other-password"), other.password());

            CliRun run = cliWith(config("  target: {password: \"${file:" + tmp.resolve("other-password") + "}\"}\n", ""),
                    "--json", "restore", "latest", "--yes", "--target-host", otherHost, "--target-database", "dify_new",
                    "--target-database", "dify_plugin=plugin_new");

            assertThat(run.code()).as(run.everything()).isZero();
            Map<String, String> env = cluster.controller().podEnv(chart.api(), chart.apiContainer());
            assertThat(env).containsEntry("DB_HOST", other.host()).containsEntry("DB_PORT", String.valueOf(other.port()))
                    .containsEntry("DB_DATABASE", "dify_new");
            assertThat(cluster.controller().podEnv(chart.plugin(), chart.pluginContainer())).containsEntry("DB_DATABASE", "plugin_new")
                    .containsEntry("DB_HOST", other.host());
            assertThat(other.comparableDump("dify_new")).isEqualTo(tb.backedUpDumps.get("dify"));
            assertThat(tb.databases()).doesNotContain("dify_new", "plugin_new");
        }
    }

    private static List<String> journals() {
        try (var list = Files.list(tmp.resolve("state/dify/restores"))) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    @Test
    void existingTargetDatabaseIsRefusedBeforeAnythingChanges() {
        start(DifyChart.boris("prod"));
        String before = clusterState();
        tb.pg.createDatabase(copyOf("dify"));
        tb.pg.createDatabase("taken");

        CliRun derived = cli("restore", "latest", "--yes");
        CliRun given = cli("restore", "latest", "--yes", "--target-database", "taken");

        assertThat(derived.code()).isEqualTo(2);
        assertThat(derived.err()).contains("database '" + copyOf("dify") + "' already exists", "never restores over an existing database");
        assertThat(given.code()).isEqualTo(2);
        assertThat(given.err()).contains("database 'taken' already exists");
        assertThat(clusterState()).isEqualTo(before);
        assertThat(tb.databases()).doesNotContain(copyOf("dify_plugin"));
    }

    @Test
    void twoApiDeploymentsStopThePreflightAndNameWhatWasFound() {
        start(DifyChart.douban("dify"));
        Deployment copy = k8s().apps().deployments().withName("dify-api").get();
        copy.getMetadata().setName("dify-api-canary");
        copy.getMetadata().setResourceVersion(null);
        copy.getMetadata().setUid(null);
        k8s().apps().deployments().resource(copy).create();
        String before = clusterState();

        CliRun run = cli("restore", "latest", "--plan");

        assertThat(run.code()).isEqualTo(10);
        assertThat(run.err()).contains("more than one api Deployment", "dify-api", "dify-api-canary", "kubernetes.workloads");
        assertThat(clusterState()).isEqualTo(before);
    }

    @Test
    void explicitWorkloadListServesPlainManifests() {
        start(DifyChart.douban("prod"));
        // Without labels to go by, the workloads are named in the configuration.
        CliRun run = CliRun.of("--config", tb.config("listed", """
                kubernetes:
                  namespace: dify
                  workloads:
                    - {name: prod-dify-api, role: api}
                    - {name: prod-dify-worker, role: worker}
                    - {name: prod-dify-plugin-daemon, role: plugin-daemon}
                """).toString(), "restore", "latest", "--plan");

        assertThat(run.code()).as(run.everything()).isZero();
        assertThat(run.out()).contains("prod-dify-api (api) 1 -> 0", "prod-dify-plugin-daemon (plugin-daemon) 1 -> 0")
                .doesNotContain("prod-dify-worker-beat (beat)");
    }

    @Test
    void difyLoginThatTheTargetServerRefusesStopsThePreflight() {
        DifyChart chart = DifyChart.boris("dify");
        start(chart);
        String wrong = "not-the-password-" + System.nanoTime();
        cluster.secret(chart.api(), Map.of("DB_USERNAME", "dify", "DB_PASSWORD", wrong));
        String before = clusterState();

        CliRun run = cli("restore", "latest", "--yes");

        assertThat(run.code()).as(run.everything()).isEqualTo(4);
        assertThat(run.err()).contains("Dify's database user 'dify' cannot log in", "Secret/" + chart.api() + " key DB_PASSWORD");
        assertThat(run.everything()).doesNotContain(wrong);
        assertThat(clusterState()).isEqualTo(before);
    }

    @Test
    void aMissingPermissionStopsThePreflightAndIsNamed() {
        start(DifyChart.boris("dify"));
        cluster.deny("patch configmaps");
        cluster.deny("delete leases");
        String before = clusterState();

        CliRun run = cli("restore", "latest", "--yes");

        assertThat(run.code()).as(run.everything()).isEqualTo(10);
        assertThat(run.err()).contains("dify-dr may not patch configmaps, delete coordination.k8s.io/leases in namespace dify",
                "the Role in runbooks/incident-restore.md");
        assertThat(clusterState()).isEqualTo(before);
    }

    @Test
    void aSecondRestoreWaitsForTheFirstToFinish() {
        DifyChart chart = DifyChart.douban("prod");
        start(chart);
        k8s().leases().resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder().withNewMetadata()
                .withName("dify-dr-restore").endMetadata().withNewSpec().withHolderIdentity("20261122T030000Z-abcdef").endSpec().build()).create();
        String before = clusterState();

        CliRun run = cli("restore", "latest", "--yes");

        assertThat(run.code()).isEqualTo(7);
        assertThat(run.err()).contains("restore 20261122T030000Z-abcdef holds the restore lock", "--resume 20261122T030000Z-abcdef");
        assertThat(clusterState()).isEqualTo(before);
    }

    @Test
    void configCheckFindsTheWorkloadsAndReachesTheSmokeEndpoints() {
        DifyChart chart = DifyChart.boris("prod");
        start(chart);

        CliRun run = cli("config", "check");

        assertThat(run.code()).as(run.everything()).isZero();
        assertThat(run.out()).contains("kubernetes", chart.api() + " (api, stopped during a restore)", chart.web() + " (web)")
                .contains(api.apiUrl() + "/health answered 200", api.pluginDaemonUrl() + "/health/check answered 200");
    }

    @Test
    void withoutPlanOrYesAndNoTerminalItRefuses() {
        start(DifyChart.boris("dify"));
        String before = clusterState();

        CliRun run = cli("restore", "latest");

        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("pass --plan to see the steps, or --yes to run them");
        assertThat(clusterState()).isEqualTo(before);
    }
}
