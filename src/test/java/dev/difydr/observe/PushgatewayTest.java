package dev.difydr.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.testsupport.RecordingPushgateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus client's PushGateway (1.4.3) over Micrometer's registry (prometheus-metrics-core 1.7.0), against an
 * HTTP server that records each request.
 */
class PushgatewayTest {
    private final RecordingPushgateway gateway = RecordingPushgateway.start();

    @AfterEach
    void stop() {
        gateway.close();
    }

    private static JobOutcome failedBackup() {
        Instant end = Instant.parse("2026-12-05T03:00:10Z");
        return new JobOutcome("prod", "backup", null, end.minusSeconds(10), end, 4, "failed", "pg_dump exited 1", null,
                Map.of(), null, null, null);
    }

    @Test
    void postsTheTextFormatToTheGroupOfDeploymentAndCommand() {
        Metrics metrics = new Metrics();
        JobOutcome outcome = failedBackup();
        metrics.record(outcome);

        assertThat(new Pushgateway(gateway.url()).push(metrics, outcome)).isTrue();

        assertThat(gateway.pushes()).hasSize(1);
        RecordingPushgateway.Push push = gateway.pushes().get(0);
        // POST replaces only the metrics of the same name: the success timestamp an earlier run pushed stays
        assertThat(push.method()).isEqualTo("POST");
        assertThat(push.path()).startsWith("/metrics/job/dify-dr/");
        assertThat(push.grouping()).containsExactlyInAnyOrderEntriesOf(Map.of("job", "dify-dr", "deployment", "prod", "command", "backup"));
        assertThat(push.contentType()).startsWith("text/plain");
        Map<String, Double> samples = ScrapeText.samples(push.body());
        assertThat(samples).containsEntry("dify_dr_job_last_failure_timestamp_seconds{command=\"backup\",deployment=\"prod\",schedule=\"\"}",
                (double) outcome.finishedAt().getEpochSecond());
        assertThat(samples.keySet()).noneMatch(k -> k.startsWith("dify_dr_job_last_success_timestamp_seconds"));
    }

    private static JobOutcome backup(String schedule, boolean succeeded, Instant end) {
        return new JobOutcome("prod", "backup", schedule, end.minusSeconds(10), end, succeeded ? 0 : 4,
                succeeded ? "completed" : "failed", succeeded ? null : "pg_dump exited 1", null, Map.of(), null, null, null);
    }

    /** Each one-shot run pushes its own registry, as two CronJob pods do. */
    private boolean push(JobOutcome outcome) {
        Metrics metrics = new Metrics();
        metrics.record(outcome);
        return new Pushgateway(gateway.url()).push(metrics, outcome);
    }

    @Test
    void twoSchedulesOfOneCommandKeepTheirOwnLastSuccessInTheGateway() {
        Instant nightly = Instant.parse("2026-12-05T02:00:40Z");
        Instant hourly = Instant.parse("2026-12-05T03:00:05Z");
        assertThat(push(backup("nightly", true, nightly))).isTrue();
        assertThat(push(backup("redis-hourly", true, hourly))).isTrue();
        // a later failure of the hourly one leaves its own success, and the nightly one's, in place
        assertThat(push(backup("redis-hourly", false, hourly.plusSeconds(3600)))).isTrue();

        Map<String, Double> held = ScrapeText.samples(gateway.exposition());
        assertThat(held)
                .containsEntry("dify_dr_job_last_success_timestamp_seconds{command=\"backup\",deployment=\"prod\",schedule=\"nightly\"}",
                        (double) nightly.getEpochSecond())
                .containsEntry("dify_dr_job_last_success_timestamp_seconds{command=\"backup\",deployment=\"prod\",schedule=\"redis-hourly\"}",
                        (double) hourly.getEpochSecond())
                .containsEntry("dify_dr_job_last_failure_timestamp_seconds{command=\"backup\",deployment=\"prod\",schedule=\"redis-hourly\"}",
                        (double) hourly.plusSeconds(3600).getEpochSecond())
                .containsEntry("dify_dr_job_last_exit_code{command=\"backup\",deployment=\"prod\",schedule=\"nightly\"}", 0.0)
                .containsEntry("dify_dr_job_last_exit_code{command=\"backup\",deployment=\"prod\",schedule=\"redis-hourly\"}", 4.0);
        assertThat(gateway.pushes()).extracting(RecordingPushgateway.Push::grouping).containsExactly(
                Map.of("job", "dify-dr", "deployment", "prod", "command", "backup", "schedule", "nightly"),
                Map.of("job", "dify-dr", "deployment", "prod", "command", "backup", "schedule", "redis-hourly"),
                Map.of("job", "dify-dr", "deployment", "prod", "command", "backup", "schedule", "redis-hourly"));
    }


    @Test
    void aRefusedPushIsAWarningNotAnError() {
        gateway.answer(400);
        Metrics metrics = new Metrics();
        metrics.record(failedBackup());
        assertThat(new Pushgateway(gateway.url()).push(metrics, failedBackup())).isFalse();
        assertThat(gateway.pushes()).hasSize(1);
    }

    @Test
    void aPushgatewayThatNeverAnswersCostsAtMostItsTimeout() throws IOException {
        // accepts connections and never answers
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Metrics metrics = new Metrics();
            metrics.record(failedBackup());
            long t0 = System.nanoTime();
            assertThat(new Pushgateway("http://127.0.0.1:" + silent.getLocalPort(), Duration.ofMillis(500)).push(metrics, failedBackup())).isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        }
    }
}
