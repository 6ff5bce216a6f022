package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Restores that go wrong: a failure at every step boundary, a rollout that never becomes ready, restored data that
 * does not match the manifest, and a restore killed with SIGKILL and resumed. Dify ends where it was, or where the
 * restore meant it to be — never in between.
 */
class RestoreFaultsIT extends RestoreTestBase {
    private static final List<String> STEPS = List.of("preflight", "record", "scale-down", "restore-databases", "validate", "rewire",
            "scale-up", "smoke-checks");

    static Stream<Arguments> boundaries() {
        return Stream.of(DifyChart.douban("dify"), DifyChart.boris("prod"))
                .flatMap(chart -> STEPS.stream().map(step -> Arguments.of(chart, step)));
    }

    @ParameterizedTest(name = "{0} after {1}")
    @MethodSource("boundaries")
    void failureAfterAnyStepLeavesDifyAsItWas(DifyChart chart, String failAfter) {
        start(chart);
        String before = clusterState();
        StepListener fault = new StepListener() {
            @Override
            public void after(String step) {
                if (step.equals(failAfter)) {
                    throw new IllegalStateException("injected failure after " + step);
                }
            }
        };
        RestoreWorkflow workflow = workflow(fault);

        if (STEPS.indexOf(failAfter) < STEPS.indexOf("scale-down")) {
            assertThatThrownBy(() -> workflow.run(workflow.plan(latest()))).hasMessageContaining("injected failure after " + failAfter);
            assertThat(clusterState()).isEqualTo(before);
            assertThat(tb.databases()).doesNotContain(copyOf("dify"));
            return;
        }
        Journal j = workflow.run(workflow.plan(latest()));

        assertThat(j.state).as(j.rollbackFailure).isEqualTo(Journal.State.ROLLED_BACK);
        assertThat(j.failure).contains("injected failure after " + failAfter);
        assertThat(j.rollback).extracting(s -> s.status).containsOnly(Journal.StepStatus.COMPLETED);
        assertThat(new RestoreReport(j, "", "").exitCode()).isEqualTo(9);
        assertDifyAsBefore(before);
        assertThat(tb.databases()).contains("dify", "dify_plugin");
    }

    @Test
    void rolloutThatNeverBecomesReadyIsRolledBack() {
        DifyChart chart = DifyChart.boris("dify");
        start(chart);
        String before = clusterState();
        cluster.controller().failRollout(chart.api(), true);
        RestoreWorkflow workflow = workflow(new StepListener() {
            @Override
            public void before(String step) {
                if (step.equals("rollback-scale-down")) {
                    cluster.controller().failRollout(chart.api(), false);
                }
            }
        });

        Journal j = workflow.run(workflow.plan(latest()));

        assertThat(j.state).as(j.rollbackFailure).isEqualTo(Journal.State.ROLLED_BACK);
        assertThat(j.step("scale-up").status).isEqualTo(Journal.StepStatus.FAILED);
        assertThat(j.failure).contains(chart.api()).containsAnyOf("progress deadline", "did not become ready");
        assertThat(j.rollbackSmoke).isNotEmpty().allSatisfy(r -> assertThat(r.ok()).isTrue());
        assertDifyAsBefore(before);
    }

    /**
     * The writers were stopped before the values went back, so the pods the rollback starts read the old values: a
     * restart annotation that the cluster refuses must not keep Dify down.
     */
    @Test
    void aRefusedRestartAnnotationDoesNotStopTheRollbackFromBringingDifyBack() {
        DifyChart chart = DifyChart.douban("dify");
        start(chart);
        scale(chart.api(), 2);
        String before = clusterState();
        cluster.controller().failRollout(chart.api(), true);
        RestoreWorkflow workflow = workflow(new StepListener() {
            @Override
            public void before(String step) {
                if (step.equals("rollback-scale-down")) {
                    cluster.controller().failRollout(chart.api(), false);
                    cluster.refuseWrites((method, path, type, body) -> path.contains("/deployments/") && type.startsWith("application/merge-patch+json"));
                }
            }
        });

        Journal j = workflow.run(workflow.plan(latest()));

        assertThat(j.state).as(j.rollbackFailure).isEqualTo(Journal.State.ROLLED_BACK);
        assertThat(j.notUndone).isEmpty();
        assertThat(j.warnings).anySatisfy(w -> assertThat(w).contains("the restart annotation could not be written", "denied the request"));
        assertThat(new RestoreReport(j, "", "").exitCode()).isEqualTo(9);
        assertThat(replicas(chart.api())).isEqualTo(2);
        assertDifyAsBefore(before);
    }

    /**
     * A value that cannot be put back holds the Deployments that read it at 0 (they would read the restored database
     * while the others read the old one); every other action still happens, the report names what was not undone,
     * and a second rollback, once the cause is gone, finishes the job.
     */
    @Test
    void aValueThatCannotBePutBackHoldsOnlyItsReadersAndASecondRollbackFinishes() {
        DifyChart chart = DifyChart.boris("prod");
        start(chart);
        String before = clusterState();
        String apiSettings = "/configmaps/" + chart.api();
        RestoreWorkflow workflow = workflow(new StepListener() {
            @Override
            public void before(String step) {
                if (step.equals("rollback-scale-down")) {
                    cluster.refuseWrites((method, path, type, body) -> path.endsWith(apiSettings));
                }
            }

            @Override
            public void after(String step) {
                if (step.equals("scale-up")) {
                    throw new IllegalStateException("injected failure after " + step);
                }
            }
        });

        Journal j = workflow.run(workflow.plan(latest()));

        assertThat(j.state).isEqualTo(Journal.State.ROLLBACK_FAILED);
        assertThat(new RestoreReport(j, "", "").exitCode()).isEqualTo(11);
        assertThat(j.notUndone).anySatisfy(n -> assertThat(n).startsWith("rewire-back").contains("ConfigMap/" + chart.api() + " key DB_DATABASE"))
                .anySatisfy(n -> assertThat(n).startsWith("scale-back-up").contains("kept at 0 replicas", chart.api()));
        assertThat(new RestoreReport(j, "", "").toText()).contains("Not undone:", "Undone: rollback-scale-down");
        assertThat(replicas(chart.api())).isZero();
        for (String[] w : new String[][] {{chart.worker(), chart.workerContainer()}, {chart.beat(), chart.beatContainer()}}) {
            awaitPods(w[0], 1);
            assertThat(databaseOf(w[0], w[1])).as(w[0]).isEqualTo("dify");
        }
        assertThat(databaseOf(chart.plugin(), chart.pluginContainer())).isEqualTo("dify_plugin");
        assertThat(k8s().leases().withName("dify-dr-restore").get()).as("the lock stays while Dify needs an operator").isNotNull();

        cluster.refuseWrites(null);
        Journal again = workflow(StepListener.NONE).rollback(j.id);

        assertThat(again.state).as(again.rollbackFailure).isEqualTo(Journal.State.ROLLED_BACK);
        assertDifyAsBefore(before);
        assertThat(k8s().leases().withName("dify-dr-restore").get()).isNull();
    }

    @Test
    void validationMismatchStopsBeforeRewiring() throws IOException {
        DifyChart chart = DifyChart.douban("prod");
        start(chart);
        String before = clusterState();
        Path manifest = tb.repository.resolve("dify/backups/" + tb.backupId + "/manifest.json");
        String original = Files.readString(manifest);
        // The manifest claims one account more than the dump holds.
        long accounts = DifyTestbed.json(original).at("/postgres/databases/0/rowCounts/accounts").asLong();
        String tampered = original.replaceFirst("\"accounts\" ?: ?" + accounts + ",", "\"accounts\": " + (accounts + 1) + ",");
        assertThat(tampered).isNotEqualTo(original);
        Files.writeString(manifest, tampered);
        try {
            CliRun run = cli("restore", "latest", "--yes");

            assertThat(run.code()).as(run.everything()).isEqualTo(9);
            assertThat(run.out()).contains("restored databases differ from the backup", "accounts has")
                    .doesNotContain("rewire    ").contains("rolled back");
            assertDifyAsBefore(before);
        } finally {
            Files.writeString(manifest, original);
        }
    }

    @Test
    void rollbackOverAValueSomeoneElseChangedLeavesDifyRunningAndSaysWhat() {
        DifyChart chart = DifyChart.boris("dify");
        start(chart);
        CliRun restore = cli("--json", "restore", "latest", "--yes");
        assertThat(restore.code()).as(restore.everything()).isZero();
        String id = DifyTestbed.json(restore.out()).get("id").asText();
        // A later helm upgrade points the api elsewhere.
        k8s().configMaps().withName(chart.api()).edit(cm -> {
            cm.getData().put("DB_DATABASE", "dify_from_helm");
            return cm;
        });
        String before = clusterState();

        CliRun rollback = cli("restore", "--rollback", id);

        assertThat(rollback.code()).isEqualTo(11);
        assertThat(rollback.out()).contains("nothing was rolled back, Dify was left running as it is",
                "ConfigMap/" + chart.api() + " key DB_DATABASE is 'dify_from_helm'");
        assertThat(clusterState()).isEqualTo(before);
        assertThat(replicas(chart.api())).isEqualTo(1);
        assertThat(k8s().leases().withName("dify-dr-restore").get()).as("the lock stays with the restore that needs an operator").isNotNull();
    }

    @Test
    void killedDuringScaleDownThenResumedEndsWithTheRecordedReplicas() throws Exception {
        DifyChart chart = DifyChart.douban("dify");
        start(chart);
        scale(chart.api(), 3);
        cluster.controller().pause();
        Process cli = spawnJava(tmp.resolve("spawned.log"), "dev.difydr.Main", "--config", config("").toString(), "restore", "latest", "--yes");
        Path journal = awaitJournal(j -> j.step("scale-down") != null && j.step("scale-down").status == Journal.StepStatus.RUNNING);
        cli.destroyForcibly().waitFor();
        cluster.controller().resume();
        String id = journal.getParent().getFileName().toString();

        CliRun resumed = cli("restore", "--resume", id);

        assertThat(resumed.code()).as(resumed.everything()).isZero();
        assertThat(resumed.out()).contains("completed");
        assertThat(replicas(chart.api())).isEqualTo(3);
        assertThat(replicas(chart.worker())).isEqualTo(1);
        assertThat(databaseOf(chart.api(), chart.apiContainer())).isEqualTo(copyOf("dify"));
        assertThat(databaseOf(chart.plugin(), chart.pluginContainer())).isEqualTo(copyOf("dify_plugin"));
    }

    /**
     * A journal edited where it is stored (the repository) names the live database as the unfinished copy: resume must
     * not drop it. The database carries no marker of this restore, so the drop is refused and the restore rolls back.
     */
    @Test
    void anEditedJournalCannotMakeResumeDropTheLiveDatabase() throws Exception {
        DifyChart chart = DifyChart.douban("prod");
        start(chart);
        String before = clusterState();
        String liveDump = tb.pg.comparableDump("dify");
        RestoreWorkflow crashing = workflow(new StepListener() {
            @Override
            public void after(String step) {
                if (step.equals("scale-down")) {
                    throw new StopHere();
                }
            }
        });
        Journal planned = crashing.plan(latest());
        assertThatThrownBy(() -> crashing.run(planned)).isInstanceOf(StopHere.class);
        Files.delete(tmp.resolve("state/dify/restores/" + planned.id + "/journal.json"));
        Path stored = tb.repository.resolve("dify/restores/" + planned.id + "/journal.json");
        var journal = (com.fasterxml.jackson.databind.node.ObjectNode) dev.difydr.repository.Json.MAPPER.readTree(stored.toFile());
        var main = (com.fasterxml.jackson.databind.node.ObjectNode) journal.withArray("databases").get(0);
        assertThat(main.get("source").asText()).isEqualTo("dify");
        main.put("target", "dify").put("creating", true);
        Files.writeString(stored, journal.toString());

        CliRun resumed = cli("restore", "--resume", planned.id);

        assertThat(resumed.code()).as(resumed.everything()).isEqualTo(9);
        assertThat(resumed.out()).contains("database 'dify'", "was not created by this run of dify-dr", "rolled back");
        assertThat(tb.databases()).contains("dify");
        assertThat(tb.pg.comparableDump("dify")).isEqualTo(liveDump);
        assertDifyAsBefore(before);
    }

    /** Stands for the process dying: an Error the workflow does not handle, so the journal stays as it was. */
    private static final class StopHere extends Error {
    }

    /** The journal of the restore now running, once it satisfies the condition. */
    private Path awaitJournal(java.util.function.Predicate<Journal> condition) throws IOException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        Path root = tmp.resolve("state/dify/restores");
        List<String> seen = Files.exists(root) ? listing(root) : List.of();
        while (true) {
            assertThat(System.nanoTime() - deadline).as("journal condition; CLI output:%n%s", log()).isNegative();
            if (Files.exists(root)) {
                for (String id : listing(root)) {
                    Path p = root.resolve(id).resolve("journal.json");
                    if (!seen.contains(id) && Files.exists(p)) {
                        try {
                            if (condition.test(dev.difydr.repository.Json.MAPPER.readValue(p.toFile(), Journal.class))) {
                                return p;
                            }
                        } catch (IOException partial) {
                            // written atomically, but read the next one anyway
                        }
                    }
                }
            }
            sleep(50);
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static String log() {
        try {
            return Files.readString(tmp.resolve("spawned.log"));
        } catch (IOException e) {
            return "(no output)";
        }
    }
}
