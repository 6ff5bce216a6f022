package dev.difydr.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a scrape shows after runs are recorded. */
class MetricsTest {
    private static final Instant T0 = Instant.parse("2026-12-05T02:00:00Z");

    private static JobOutcome run(String deployment, String job, String schedule, int exitCode, Instant end, long seconds,
                                  Map<String, Long> stored, Integer kept, Duration rto, Duration rpo) {
        return new JobOutcome(deployment, job, schedule, end.minusSeconds(seconds), end, exitCode, exitCode == 0 ? "completed" : "failed",
                exitCode == 0 ? null : "boom", "20261205T020000Z-k3f9", stored, kept, rto, rpo);
    }

    private static String series(String name, String labels) {
        return name + "{" + labels + "}";
    }

    @Test
    void lastSuccessAndFailureDurationBytesAndCounts() {
        Metrics metrics = new Metrics();
        metrics.record(run("prod", "backup", "nightly", 0, T0, 120, Map.of("postgres", 1_000L, "redis", 20L, "storage", 5_000L), null, null, null));
        metrics.record(run("prod", "backup", "nightly", 4, T0.plusSeconds(86_400), 3, Map.of(), null, null, null));
        metrics.record(run("prod", "backup", "nightly", 0, T0.plusSeconds(2 * 86_400), 100, Map.of("postgres", 1_100L, "redis", 25L, "storage", 5_500L), null, null, null));

        Map<String, Double> s = ScrapeText.samples(metrics.scrape());

        String labels = "command=\"backup\",deployment=\"prod\",schedule=\"nightly\"";
        assertThat(s).containsEntry(series("dify_dr_job_last_success_timestamp_seconds", labels), (double) T0.plusSeconds(2 * 86_400).getEpochSecond());
        assertThat(s).containsEntry(series("dify_dr_job_last_failure_timestamp_seconds", labels), (double) T0.plusSeconds(86_400).getEpochSecond());
        assertThat(s).containsEntry(series("dify_dr_job_last_duration_seconds", labels), 100.0);
        assertThat(s).containsEntry(series("dify_dr_job_last_exit_code", labels), 0.0);
        assertThat(s).containsEntry(series("dify_dr_job_runs_total", "command=\"backup\",deployment=\"prod\",result=\"success\",schedule=\"nightly\""), 2.0);
        assertThat(s).containsEntry(series("dify_dr_job_runs_total", "command=\"backup\",deployment=\"prod\",result=\"failure\",schedule=\"nightly\""), 1.0);
        assertThat(s).containsEntry(series("dify_dr_backup_last_stored_bytes", "component=\"postgres\",deployment=\"prod\",schedule=\"nightly\""), 1_100.0);
        assertThat(s).containsEntry(series("dify_dr_backup_last_stored_bytes", "component=\"storage\",deployment=\"prod\",schedule=\"nightly\""), 5_500.0);
        // no backup id in any label
        assertThat(s.keySet()).noneMatch(k -> k.contains("20261205T020000Z"));
    }

    @Test
    void drillPruneAndDeploymentsApart() {
        Metrics metrics = new Metrics();
        metrics.record(run("prod", "drill", null, 0, T0, 90, Map.of(), null, Duration.ofMillis(81_500), Duration.ofSeconds(3_600)));
        metrics.record(run("prod", "prune", null, 0, T0, 2, Map.of(), 7, null, null));
        metrics.record(run("staging", "prune", null, 0, T0, 2, Map.of(), 3, null, null));

        Map<String, Double> s = ScrapeText.samples(metrics.scrape());

        assertThat(s).containsEntry(series("dify_dr_drill_rto_seconds", "deployment=\"prod\",schedule=\"\""), 81.5);
        assertThat(s).containsEntry(series("dify_dr_drill_rpo_seconds", "deployment=\"prod\",schedule=\"\""), 3_600.0);
        assertThat(s).containsEntry(series("dify_dr_backups_kept", "deployment=\"prod\",schedule=\"\""), 7.0);
        assertThat(s).containsEntry(series("dify_dr_backups_kept", "deployment=\"staging\",schedule=\"\""), 3.0);
        assertThat(s.keySet()).noneMatch(k -> k.startsWith("dify_dr_job_last_failure_timestamp_seconds"));
    }

    @Test
    void gaugesHoldTheirValueAfterGarbageCollection() throws InterruptedException {
        Metrics metrics = new Metrics();
        metrics.record(run("prod", "backup", null, 0, T0, 10, Map.of("postgres", 1_000L), null, null, null));
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
        }
        Map<String, Double> s = ScrapeText.samples(metrics.scrape());
        assertThat(s).containsEntry(series("dify_dr_job_last_success_timestamp_seconds", "command=\"backup\",deployment=\"prod\",schedule=\"\""),
                (double) T0.getEpochSecond());
        assertThat(s).containsEntry(series("dify_dr_backup_last_stored_bytes", "component=\"postgres\",deployment=\"prod\",schedule=\"\""), 1_000.0);
    }

    @Test
    void helpAndTypeLinesNameTheUnits() {
        Metrics metrics = new Metrics();
        metrics.record(run("prod", "backup", null, 0, T0, 10, Map.of("postgres", 1_000L), null, null, null));
        assertThat(metrics.scrape())
                .contains("# TYPE dify_dr_job_last_success_timestamp_seconds gauge")
                .contains("# TYPE dify_dr_job_runs_total counter")
                .contains("# TYPE dify_dr_backup_last_stored_bytes gauge");
    }
}
