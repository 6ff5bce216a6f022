package dev.difydr.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.Failure;
import dev.difydr.repository.Json;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.RecordingPushgateway;
import dev.difydr.testsupport.WebhookReceiver;
import dev.difydr.testsupport.WebhookReceiver.Vendor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which command lines are jobs whose outcome is published, on an empty file repository (no server needed). */
class JobHookTest {
    @TempDir
    Path dir;

    private final WebhookReceiver webhook = WebhookReceiver.start(Vendor.GENERIC, null);
    private final RecordingPushgateway gateway = RecordingPushgateway.start();

    @AfterEach
    void stop() {
        webhook.close();
        gateway.close();
    }

    private Path config(String extra) throws IOException {
        Path file = dir.resolve("dify-dr.yaml");
        Files.writeString(file, """
                deployment: staging
                repository:
                  url: %s
                metrics: {pushgateway: "%s"}
                notifications:
                  - {type: webhook, url: "%s", on: [failure, success, drill]}
                """.formatted(dir.resolve("repo").toUri(), gateway.url(), webhook.url()) + extra);
        return file;
    }

    private CliRun run(String... args) {
        return CliRun.of(name -> null, args);
    }

    @Test
    void aFailedVerifyIsPublishedWithTheErrorMainPrinted() throws IOException {
        CliRun run = run("--config", config("").toString(), "--json", "verify", "latest");

        assertThat(run.code()).isEqualTo(Failure.VERIFY.exitCode());
        JsonNode printed = Json.MAPPER.readTree(run.out());
        assertThat(webhook.accepted()).hasSize(1);
        JsonNode event = Json.MAPPER.readTree(webhook.accepted().get(0).body());
        assertThat(event.path("job").asText()).isEqualTo("verify");
        assertThat(event.path("deployment").asText()).isEqualTo("staging");
        assertThat(event.path("exitCode").asInt()).isEqualTo(6);
        assertThat(event.path("error").asText()).isEqualTo(printed.path("error").path("message").asText());
        assertThat(gateway.pushes()).singleElement().satisfies(p -> assertThat(p.grouping()).containsEntry("command", "verify"));
    }

    @Test
    void withoutJsonTheSameOutcomeIsPublished() throws IOException {
        CliRun run = run("--config", config("").toString(), "verify", "latest");

        assertThat(run.code()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(Json.MAPPER.readTree(webhook.accepted().get(0).body()).path("error").asText()).isNotBlank().isNotEqualTo("exit code 6");
    }

    /** A CronJob of the chart: DIFY_DR_SCHEDULE names its schedule; it pushes, into that schedule's group. */
    @Test
    void aRunOfAScheduleOutsideTheSchedulerPushesIntoItsSchedulesGroup() throws IOException {
        CliRun run = CliRun.of(Map.of("DIFY_DR_SCHEDULE", "weekly-verify")::get, "--config", config("").toString(), "verify", "latest");

        assertThat(run.code()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(Json.MAPPER.readTree(webhook.accepted().get(0).body()).path("schedule").asText()).isEqualTo("weekly-verify");
        assertThat(gateway.pushes()).singleElement().satisfies(p -> {
            assertThat(p.grouping()).isEqualTo(Map.of("job", "dify-dr", "deployment", "staging", "command", "verify", "schedule", "weekly-verify"));
            assertThat(ScrapeText.samples(p.body()))
                    .containsEntry("dify_dr_job_last_exit_code{command=\"verify\",deployment=\"staging\",schedule=\"weekly-verify\"}", 6.0);
        });
    }

    /** A child of `dify-dr schedule`: DIFY_DR_SCHEDULER says the scheduler serves its metrics, so it does not push. */
    @Test
    void aRunStartedByTheSchedulerDoesNotPush() throws IOException {
        CliRun run = CliRun.of(Map.of("DIFY_DR_SCHEDULE", "weekly-verify", "DIFY_DR_SCHEDULER", "1")::get,
                "--config", config("").toString(), "verify", "latest");

        assertThat(run.code()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(Json.MAPPER.readTree(webhook.accepted().get(0).body()).path("schedule").asText()).isEqualTo("weekly-verify");
        assertThat(gateway.pushes()).isEmpty();
    }

    @Test
    void commandsThatAreNoJobsPublishNothing() throws IOException {
        Path config = config("");
        assertThat(run("--config", config.toString(), "list").code()).isZero();
        run("--config", config.toString(), "restore", "latest", "--plan");
        assertThat(run("--config", config.toString(), "--help").code()).isZero();
        assertThat(run("--config", config.toString(), "verify", "--help").code()).isZero();

        assertThat(webhook.received()).isEmpty();
        assertThat(gateway.pushes()).isEmpty();
    }

    @Test
    void anInvalidConfigurationHasNowhereToPublish() throws IOException {
        CliRun run = run("--config", config("bogus: 1\n").toString(), "verify", "latest");

        assertThat(run.code()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(webhook.received()).isEmpty();
        assertThat(gateway.pushes()).isEmpty();
    }
}
