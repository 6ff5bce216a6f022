package dev.difydr.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus client's PushGateway (1.4.3) over Micrometer's registry (prometheus-metrics-core 1.7.0), against an
 * HTTP server that answers like the Pushgateway and records each request.
 */
class PushgatewayTest {
    record Request(String method, String path, String contentType, String body) {
    }

    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private HttpServer server;

    private String start(int status) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            if ("gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
                raw = new GZIPInputStream(new java.io.ByteArrayInputStream(raw)).readAllBytes();
            }
            requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
                    exchange.getRequestHeaders().getFirst("Content-Type"), new String(raw, StandardCharsets.UTF_8)));
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static JobOutcome failedBackup() {
        Instant end = Instant.parse("2026-12-05T03:00:10Z");
        return new JobOutcome("prod", "backup", null, end.minusSeconds(10), end, 4, "failed", "pg_dump exited 1", null,
                Map.of(), null, null, null);
    }

    @Test
    void postsTheTextFormatToTheGroupOfDeploymentAndCommand() throws IOException {
        String url = start(200);
        Metrics metrics = new Metrics();
        JobOutcome outcome = failedBackup();
        metrics.record(outcome);

        assertThat(new Pushgateway(url).push(metrics, outcome)).isTrue();

        assertThat(requests).hasSize(1);
        Request r = requests.get(0);
        assertThat(r.method()).isEqualTo("POST");
        // the grouping key is a label set: the client writes it in its own order
        assertThat(r.path()).startsWith("/metrics/job/dify-dr/");
        assertThat(grouping(r.path())).containsExactlyInAnyOrderEntriesOf(Map.of("job", "dify-dr", "deployment", "prod", "command", "backup"));
        assertThat(r.contentType()).startsWith("text/plain");
        Map<String, Double> samples = ScrapeText.samples(r.body());
        assertThat(samples).containsEntry(
                "dify_dr_job_last_failure_timestamp_seconds{command=\"backup\",deployment=\"prod\",schedule=\"\"}", (double) outcome.finishedAt().getEpochSecond());
        assertThat(samples.keySet()).noneMatch(k -> k.startsWith("dify_dr_job_last_success_timestamp_seconds"));
    }

    private static Map<String, String> grouping(String path) {
        String[] parts = path.substring("/metrics/".length()).split("/");
        Map<String, String> out = new java.util.HashMap<>();
        for (int i = 0; i + 1 < parts.length; i += 2) {
            out.put(parts[i], java.net.URLDecoder.decode(parts[i + 1], StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void aRefusedPushIsAWarningNotAnError() throws IOException {
        String url = start(400);
        Metrics metrics = new Metrics();
        metrics.record(failedBackup());
        assertThat(new Pushgateway(url).push(metrics, failedBackup())).isFalse();
        assertThat(requests).hasSize(1);
    }

    @Test
    void anUnreachablePushgatewayIsAWarningWithinItsTimeout() throws IOException {
        // a server that accepts connections and never answers
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Metrics metrics = new Metrics();
            metrics.record(failedBackup());
            long t0 = System.nanoTime();
            assertThat(new Pushgateway("http://127.0.0.1:" + silent.getLocalPort(), Duration.ofMillis(500)).push(metrics, failedBackup())).isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        }
    }
}
