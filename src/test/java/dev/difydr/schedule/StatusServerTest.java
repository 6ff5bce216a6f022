package dev.difydr.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class StatusServerTest {
    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthzFollowsTheSchedulerAndMetricsIsPrometheusText() throws Exception {
        AtomicBoolean started = new AtomicBoolean(true);
        try (StatusServer server = new StatusServer(0, started::get, () -> "# TYPE x counter\nx_total 1.0\n")) {
            assertThat(get(server.port(), "/healthz").statusCode()).isEqualTo(200);
            started.set(false);
            assertThat(get(server.port(), "/healthz").statusCode()).isEqualTo(503);

            HttpResponse<String> metrics = get(server.port(), "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            assertThat(metrics.body()).isEqualTo("# TYPE x counter\nx_total 1.0\n");
            assertThat(get(server.port(), "/other").statusCode()).isEqualTo(404);
        }
    }
}
