package dev.difydr.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.DrException;
import dev.difydr.ErrorReport;
import dev.difydr.Failure;
import dev.difydr.backup.BackupResult;
import dev.difydr.drill.DrillReport;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.Json;
import dev.difydr.testsupport.CliRun;
import dev.difydr.verify.VerifyResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Outcomes read from the documents the result classes print, serialised as {@code Cli.print} does. */
class JobOutcomeTest {
    private static final Instant START = Instant.parse("2026-12-05T02:00:00Z");
    private static final Instant END = START.plusSeconds(75);

    private static JsonNode doc(Object result) {
        return Json.MAPPER.valueToTree(result);
    }

    private static Artifact artifact(String name, String kind, long stored) {
        return new Artifact(name, kind, kind + "/" + name, stored * 3, stored, "a".repeat(64), "b".repeat(64), "zstd", null, null);
    }

    @Test
    void completedBackup() {
        BackupResult result = new BackupResult("20261205T020000Z-k3f9", "completed", "file:///backups", List.of(
                artifact("dify.dump.zst", "postgres", 1000), artifact("dify_plugin.dump.zst", "postgres", 200),
                artifact("dump.rdb.zst", "redis", 30), artifact("app.tar.zst", "storage", 4000)), null, List.of(), 75.0, null);

        JobOutcome o = JobOutcome.of("prod", "backup", "nightly", doc(result), result.exitCode(), START, END);

        assertThat(o.succeeded()).isTrue();
        assertThat(o.status()).isEqualTo("completed");
        assertThat(o.backupId()).isEqualTo("20261205T020000Z-k3f9");
        assertThat(o.storedBytes()).isEqualTo(Map.of("postgres", 1200L, "redis", 30L, "storage", 4000L));
        assertThat(o.error()).isNull();
        assertThat(o.schedule()).isEqualTo("nightly");
        assertThat(o.duration()).isEqualTo(Duration.ofSeconds(75));
    }

    @Test
    void failedBackupCountsNoBytes() {
        DrException cause = new DrException(Failure.SOURCE, "pg_dump of database 'dify' at db:5432 exited 1: connection refused");
        BackupResult result = new BackupResult("20261205T020000Z-k3f9", BackupResult.FAILED, "file:///backups",
                List.of(artifact("dify.dump.zst", "postgres", 1000)), null, null, 3.0, ErrorReport.of(Failure.SOURCE, cause));

        JobOutcome o = JobOutcome.of("prod", "backup", null, doc(result), result.exitCode(), START, END);

        assertThat(o.exitCode()).isEqualTo(4);
        assertThat(o.succeeded()).isFalse();
        assertThat(o.status()).isEqualTo("failed");
        assertThat(o.error()).isEqualTo("pg_dump of database 'dify' at db:5432 exited 1: connection refused");
        assertThat(o.storedBytes()).isEmpty();
        assertThat(o.schedule()).isNull();
    }

    @Test
    void verifyNamesTheDamagedArtifacts() {
        VerifyResult result = new VerifyResult("20261205T020000Z-k3f9", true, List.of(
                new VerifyResult.Check("dify.dump.zst", "prod/backups/x/postgres/dify.dump.zst", true, "sha256 matches"),
                new VerifyResult.Check("app.tar.zst", "prod/backups/x/storage/app.tar.zst", false, "stored sha256 differs")));

        JobOutcome o = JobOutcome.of("prod", "verify", null, doc(result), Failure.VERIFY.exitCode(), START, END);

        assertThat(o.status()).isEqualTo("failed");
        assertThat(o.backupId()).isEqualTo("20261205T020000Z-k3f9");
        assertThat(o.error()).isEqualTo("prod/backups/x/storage/app.tar.zst: stored sha256 differs");
        assertThat(o.storedBytes()).isEmpty();
    }

    private static DrillReport drill(String status, Double rto, Long rpo, List<String> missed, String failure, int exitCode) {
        return new DrillReport("drill-20261205T030000Z", "prod", "0.1.0", status, "20261205T020000Z-k3f9", START, END,
                END.plusSeconds(90), "127.0.0.1:5432", List.of(), List.of(), List.of(), List.of(), false, List.of(), List.of(),
                rto, rpo, 60L, 7200L, missed, failure, "prod/drills/x/report.json", "prod/drills/x/report.md", exitCode);
    }

    @Test
    void drillMeasuresRtoAndRpo() {
        DrillReport report = drill(DrillReport.PASSED, 41.25, 3_675L, List.of(), null, 0);

        JobOutcome o = JobOutcome.of("prod", "drill", null, doc(report), report.exitCode(), START, END);

        assertThat(o.succeeded()).isTrue();
        assertThat(o.status()).isEqualTo("passed");
        assertThat(o.rto()).isEqualTo(Duration.ofMillis(41_250));
        assertThat(o.rpo()).isEqualTo(Duration.ofSeconds(3_675));
        assertThat(o.backupId()).as("the drilled backup, not the drill's own id").isEqualTo("20261205T020000Z-k3f9");
    }

    @Test
    void drillThatMissedItsThresholdsStillReportsItsMeasures() {
        DrillReport report = drill(DrillReport.THRESHOLDS_MISSED, 95.0, 3_675L, List.of("RTO 95.0 s is over the threshold of 60 s"), null,
                Failure.DRILL_THRESHOLD.exitCode());

        JobOutcome o = JobOutcome.of("prod", "drill", null, doc(report), report.exitCode(), START, END);

        assertThat(o.exitCode()).isEqualTo(12);
        assertThat(o.status()).isEqualTo("thresholds_missed");
        assertThat(o.error()).isEqualTo("RTO 95.0 s is over the threshold of 60 s");
        assertThat(o.rto()).isEqualTo(Duration.ofSeconds(95));
    }

    @Test
    void failedDrillWithoutMeasures() {
        DrillReport report = drill(DrillReport.FAILED, null, null, List.of(), "restore databases: pg_restore exited 1", Failure.SOURCE.exitCode());

        JobOutcome o = JobOutcome.of("prod", "drill", null, doc(report), report.exitCode(), START, END);

        assertThat(o.error()).isEqualTo("restore databases: pg_restore exited 1");
        assertThat(o.rto()).isNull();
        assertThat(o.rpo()).isNull();
    }

    @Test
    void prune() throws IOException {
        JsonNode prune = Json.MAPPER.readTree("""
                {"status":"completed","kept":5,"removed":2,"uploadsAborted":1,
                 "backups":[{"id":"20261201T020000Z-aaaa","decision":"keep"},{"id":"20261101T020000Z-bbbb","decision":"remove"}]}""");

        JobOutcome o = JobOutcome.of("prod", "prune", null, prune, 0, START, END);

        assertThat(o.backupsKept()).isEqualTo(5);
        assertThat(o.backupId()).isNull();
        assertThat(o.succeeded()).isTrue();
    }

    @Test
    void theFailureDocumentMainPrints(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("dify-dr.yaml");
        Files.writeString(config, "deployment: prod\nrepository:\n  url: " + dir.resolve("repo").toUri() + "\n");
        CliRun run = CliRun.of("--config", config.toString(), "--json", "verify", "latest");
        JsonNode failure = Json.MAPPER.readTree(run.out());

        JobOutcome o = JobOutcome.of("prod", "verify", null, failure, run.code(), START, END);

        assertThat(o.exitCode()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(o.status()).isEqualTo("failed");
        assertThat(o.error()).isEqualTo(failure.path("error").path("message").asText()).isNotBlank();
        assertThat(o.backupId()).isNull();
    }

    @Test
    void noDocumentAtAll() {
        JobOutcome o = JobOutcome.of("prod", "backup", "", null, 1, START, END);
        assertThat(o.status()).isEqualTo("failed");
        assertThat(o.error()).isEqualTo("exit code 1");
        assertThat(o.schedule()).isNull();
    }
}
