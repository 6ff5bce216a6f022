package dev.difydr.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stand-in refuses what a real Pushgateway refuses, so a push that passes it would pass the real one. */
class RecordingPushgatewayTest {
    private static final Map<String, String> GROUP = Map.of("job", "dify-dr", "deployment", "prod", "command", "backup");

    @Test
    void acceptsTheTextFormatConsistentWithTheGroupingKey() {
        assertThat(RecordingPushgateway.refusal(GROUP, """
                # HELP dify_dr_job_last_exit_code Exit code
                # TYPE dify_dr_job_last_exit_code gauge
                dify_dr_job_last_exit_code{command="backup",deployment="prod",schedule=""} 4.0
                dify_dr_job_runs_total{command="backup",deployment="prod",result="failure",schedule=""} 1.0
                """)).isNull();
    }

    @Test
    void refusesALabelThatContradictsTheGroupingKeyAndWhatIsNotTheTextFormat() {
        assertThat(RecordingPushgateway.refusal(GROUP, "dify_dr_job_last_exit_code{deployment=\"staging\"} 4.0\n"))
                .contains("contradicts the grouping key");
        assertThat(RecordingPushgateway.refusal(GROUP, "dify_dr_job_last_exit_code 4.0 x\n")).contains("not the text format");
        assertThat(RecordingPushgateway.refusal(GROUP, "dify_dr_job_last_exit_code{deployment=prod} 4.0\n")).isNotNull();
        assertThat(RecordingPushgateway.refusal(GROUP, "dify_dr_job_last_exit_code four\n")).contains("not a sample value");
    }

    private static int send(RecordingPushgateway gateway, String method, String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.url() + path))
                .method(method, HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8").build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** As the real one: POST replaces the pushed families of its group, PUT the whole group, DELETE drops it. */
    @Test
    void keepsWhatItWasPushedByGroupAndMetricFamily() throws Exception {
        try (RecordingPushgateway gateway = RecordingPushgateway.start()) {
            String group = "/metrics/job/dify-dr/deployment/prod/command/backup";
            String other = "/metrics/job/dify-dr/deployment/prod/command/verify";
            assertThat(send(gateway, "POST", group, """
                    # TYPE last_success gauge
                    last_success{schedule="nightly"} 1.0
                    # TYPE last_exit gauge
                    last_exit{schedule="nightly"} 0.0
                    """)).isEqualTo(200);
            assertThat(send(gateway, "POST", other, "# TYPE last_exit gauge\nlast_exit{command=\"verify\"} 6.0\n")).isEqualTo(200);
            // same group, same family, another series: the family is replaced, the nightly series is gone
            assertThat(send(gateway, "POST", group, "# TYPE last_success gauge\nlast_success{schedule=\"hourly\"} 2.0\n")).isEqualTo(200);
            assertThat(gateway.exposition().lines()).containsExactlyInAnyOrder(
                    "last_success{schedule=\"hourly\"} 2.0", "last_exit{schedule=\"nightly\"} 0.0", "last_exit{command=\"verify\"} 6.0");

            assertThat(send(gateway, "PUT", group, "# TYPE last_exit gauge\nlast_exit{schedule=\"hourly\"} 4.0\n")).isEqualTo(200);
            assertThat(gateway.exposition().lines()).containsExactlyInAnyOrder(
                    "last_exit{schedule=\"hourly\"} 4.0", "last_exit{command=\"verify\"} 6.0");
            assertThat(send(gateway, "DELETE", other, "")).isEqualTo(200);
            assertThat(gateway.exposition().lines()).containsExactly("last_exit{schedule=\"hourly\"} 4.0");
        }
    }
}
