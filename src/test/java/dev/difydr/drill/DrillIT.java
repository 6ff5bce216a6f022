package dev.difydr.drill;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Repository;
import dev.difydr.restore.StepListener;
import dev.difydr.store.Stores;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The drill restores into scratch databases, proves them equal to the backup, measures, reports, and cleans up. */
class DrillIT {
    @TempDir
    static Path tmp;
    static DifyTestbed tb;

    @BeforeAll
    static void start() {
        tb = DifyTestbed.start(tmp);
    }

    @AfterAll
    static void stop() {
        if (tb != null) {
            tb.close();
        }
    }

    @AfterEach
    void dropCopies() {
        tb.dropCopies();
    }

    private static CliRun drill(String drillSection, String... args) {
        String[] all = new String[args.length + 4];
        all[0] = "--config";
        all[1] = tb.config("drill", drillSection).toString();
        all[2] = "--json";
        all[3] = "drill";
        System.arraycopy(args, 0, all, 4, args.length);
        return CliRun.of(all);
    }

    @Test
    void drillRestoresValidatesMeasuresReportsAndDropsItsScratchDatabases() throws IOException {
        CliRun run = drill("");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode report = DifyTestbed.json(run.out());
        assertThat(report.get("status").asText()).isEqualTo("passed");
        assertThat(report.get("backupId").asText()).isEqualTo(tb.backupId);
        assertThat(report.get("rtoSeconds").asDouble()).isPositive();
        assertThat(report.get("rpoSeconds").asLong()).isNotNegative();
        assertThat(report.get("databases")).hasSize(2).allSatisfy(d -> {
            assertThat(d.get("validated").asBoolean()).isTrue();
            assertThat(d.get("restored").asBoolean()).isTrue();
        });
        assertThat(report.get("steps")).extracting(s -> s.get("name").asText())
                .containsExactly("preflight", "restore-databases", "validate", "cleanup");
        String id = report.get("id").asText();
        Path json = tb.repository.resolve("dify/drills/" + id + "/report.json");
        Path md = tb.repository.resolve("dify/drills/" + id + "/report.md");
        assertThat(DifyTestbed.json(Files.readString(json)).get("status").asText()).isEqualTo("passed");
        assertThat(Files.readString(md)).contains("# DR drill " + id + ": PASSED", "RTO (restore wall time)", "| restore-databases | completed |");
        assertThat(tb.databases()).noneMatch(db -> db.contains("_drill_"));
        // the drill's verify leaves its verdict beside the manifest, where prune's minKeep counts it
        JsonNode verdict = DifyTestbed.json(Files.readString(tb.repository.resolve("dify/backups/" + tb.backupId + "/verify.json")));
        assertThat(verdict.get("passed").asBoolean()).isTrue();
    }

    @Test
    void keptScratchDatabasesEqualTheBackedUpOnes() {
        CliRun run = drill("""
                drill:
                  databases: {dify: dify_drill, dify_plugin: dify_plugin_drill}
                  databaseOwner: dify
                """, tb.backupId, "--keep");

        assertThat(run.code()).as(run.everything()).isZero();
        assertThat(tb.pg.comparableDump("dify_drill")).isEqualTo(tb.backedUpDumps.get("dify"));
        assertThat(tb.pg.comparableDump("dify_plugin_drill")).isEqualTo(tb.backedUpDumps.get("dify_plugin"));
        assertThat(tb.pg.psql("postgres", "-At", "-c", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'dify_drill'").strip())
                .isEqualTo("dify");

        CliRun again = drill("""
                drill:
                  databases: {dify: dify_drill, dify_plugin: dify_plugin_drill}
                """);
        assertThat(again.code()).isEqualTo(2);
        assertThat(DifyTestbed.json(again.out()).get("failure").asText()).contains("database 'dify_drill' already exists");
        assertThat(tb.databases()).contains("dify_drill");
        tb.pg.psql("postgres", "-c", "DROP DATABASE dify_drill", "-c", "DROP DATABASE dify_plugin_drill");
    }

    @Test
    void withoutAUsableTempDirectoryTheDumpIsStreamedIntoOnePgRestore() {
        CliRun run = CliRun.of("--config", tb.config("streamed", "  tempDir: " + tmp.resolve("no-such-dir") + "\n", """
                drill:
                  databases: {dify: dify_streamed, dify_plugin: dify_plugin_streamed}
                """).toString(), "--json", "drill", "--keep");

        assertThat(run.code()).as(run.everything()).isZero();
        assertThat(DifyTestbed.json(run.out()).get("databases")).allSatisfy(d -> {
            assertThat(d.get("method").asText()).isEqualTo("streamed");
            assertThat(d.get("jobs").asInt()).isEqualTo(1);
        });
        assertThat(tb.pg.comparableDump("dify_streamed")).isEqualTo(tb.backedUpDumps.get("dify"));
        tb.pg.psql("postgres", "-c", "DROP DATABASE dify_streamed", "-c", "DROP DATABASE dify_plugin_streamed");
    }

    @Test
    void missedThresholdsFailTheDrillWithTheirOwnExitCode() throws InterruptedException {
        Thread.sleep(1100);
        CliRun run = drill("""
                drill:
                  maxRpoSeconds: 1
                  maxRtoSeconds: 3600
                """);

        assertThat(run.code()).as(run.everything()).isEqualTo(12);
        JsonNode report = DifyTestbed.json(run.out());
        assertThat(report.get("status").asText()).isEqualTo("thresholds_missed");
        assertThat(report.get("missedThresholds").get(0).asText()).contains("exceeds drill.maxRpoSeconds 1");
    }

    @Test
    void aDamagedArtifactIsCaughtWhileRestoringAndNothingIsLeftBehind() throws IOException {
        Path artifact = tb.repository.resolve("dify/backups/" + tb.backupId + "/postgres/dify_plugin.dump.zst");
        byte[] original = Files.readAllBytes(artifact);
        byte[] damaged = original.clone();
        damaged[damaged.length / 2] ^= 0x40;
        Files.write(artifact, damaged);
        try {
            CliRun run = drill("");

            assertThat(run.code()).as(run.everything()).isEqualTo(6);
            JsonNode report = DifyTestbed.json(run.out());
            assertThat(report.get("failure").asText()).contains("artifact dify/backups/" + tb.backupId + "/postgres/dify_plugin.dump.zst is damaged");
            assertThat(tb.databases()).noneMatch(db -> db.contains("_drill_"));
        } finally {
            Files.write(artifact, original);
        }
    }

    @Test
    void dataThatDoesNotMatchTheManifestFailsTheDrillAndStillCleansUp() throws IOException {
        Path manifest = tb.repository.resolve("dify/backups/" + tb.backupId + "/manifest.json");
        String original = Files.readString(manifest);
        long tenants = DifyTestbed.json(original).at("/postgres/databases/0/rowCounts/tenants").asLong();
        Files.writeString(manifest, original.replaceFirst("\"tenants\" ?: ?" + tenants + ",", "\"tenants\": " + (tenants + 2) + ","));
        try {
            CliRun run = drill("");

            assertThat(run.code()).as(run.everything()).isEqualTo(6);
            JsonNode report = DifyTestbed.json(run.out());
            assertThat(report.get("status").asText()).isEqualTo("failed");
            assertThat(report.get("failure").asText()).contains("tenants has " + tenants + " rows, backup recorded " + (tenants + 2));
            assertThat(tb.databases()).noneMatch(db -> db.contains("_drill_"));
        } finally {
            Files.writeString(manifest, original);
        }
    }

    @Test
    void aFixedScratchNameThatSomeoneCreatedMeanwhileIsNotDropped() {
        Path config = tb.config("drill", """
                drill:
                  databases: {dify: dify_drill_fixed, dify_plugin: dify_plugin_drill_fixed}
                """);
        // Created after the preflight found the name free, just before the drill's CREATE DATABASE: it is not the drill's.
        StepListener someoneElse = new StepListener() {
            @Override
            public void before(String step) {
                if (step.equals("restore-databases")) {
                    tb.pg.createDatabase("dify_drill_fixed");
                    tb.pg.psql("dify_drill_fixed", "-c", "CREATE TABLE precious (v text); INSERT INTO precious VALUES ('kept')");
                }
            }
        };
        Config loaded = new ConfigLoader().load(config);
        try (Repository repository = new Repository(Stores.open(loaded.repository()), loaded.deployment())) {
            DrillReport report = new DrillRun(loaded, repository, label -> Progress.none(), someoneElse, Clock.systemUTC())
                    .run("latest", false, false, false);

            assertThat(report.status()).isEqualTo("failed");
            assertThat(report.failure()).contains("dify_drill_fixed");
        }
        assertThat(tb.databases()).contains("dify_drill_fixed");
        assertThat(tb.pg.psql("dify_drill_fixed", "-At", "-c", "SELECT v FROM precious").strip()).isEqualTo("kept");
    }
}
