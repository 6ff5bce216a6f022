package dev.difydr.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.Failure;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.PostgresServer;
import dev.difydr.testsupport.RecordingPushgateway;
import dev.difydr.testsupport.WebhookReceiver;
import dev.difydr.testsupport.WebhookReceiver.Vendor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real backup against a real PostgreSQL that refuses it (wrong password): the command's exit code and its one JSON
 * document stay as they are, a signed DingTalk robot and a generic webhook hear the failure, and the Pushgateway gets
 * the run's metrics with its failure timestamp; no secret reaches a request or a log.
 */
class OutcomePublishingIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SIGNING_SECRET = "SEC" + UUID.randomUUID().toString().replace("-", "");
    private static PostgresServer pg;

    @TempDir
    Path dir;

    private final WebhookReceiver ding = WebhookReceiver.start(Vendor.DINGTALK, SIGNING_SECRET);
    private final WebhookReceiver webhook = WebhookReceiver.start(Vendor.GENERIC, null);
    private final RecordingPushgateway gateway = RecordingPushgateway.start();

    @BeforeAll
    static void start() {
        pg = PostgresServer.start();
        pg.createDatabase("dify");
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void stop() {
        ding.close();
        webhook.close();
        gateway.close();
    }

    private Path config(String wrongPassword) throws IOException {
        Path passwordFile = dir.resolve("pg-password");
        Files.writeString(passwordFile, wrongPassword + "\n");
        Path secretFile = dir.resolve("ding-secret");
        Files.writeString(secretFile, SIGNING_SECRET + "\n");
        Path urlFile = dir.resolve("ding-url");
        Files.writeString(urlFile, ding.url() + "\n");
        Path file = dir.resolve("dify-dr.yaml");
        Files.writeString(file, """
                deployment: prod
                repository:
                  url: %s
                postgres:
                  host: %s
                  port: %d
                  user: %s
                  password: "${file:%s}"
                  databases: [dify]
                metrics:
                  pushgateway: "%s"
                notifications:
                  - {type: dingtalk, url: "${file:%s}", secret: "${file:%s}"}
                  - {type: webhook, url: "%s", on: [failure, success]}
                """.formatted(dir.resolve("repo").toUri(), pg.host(), pg.port(), pg.user(), passwordFile, gateway.url(), urlFile,
                secretFile, webhook.url()));
        return file;
    }

    private static List<JsonNode> documents(String stdout) throws IOException {
        try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(stdout)) {
            return it.readAll();
        }
    }

    @Test
    void aFailedBackupIsNotifiedAndPushed() throws IOException {
        String wrong = "wrong-" + UUID.randomUUID();
        Path config = config(wrong);
        Instant before = Instant.now();

        CliRun run = CliRun.of(name -> null, "--config", config.toString(), "--json", "backup");

        assertThat(run.code()).as(run.everything()).isEqualTo(Failure.SOURCE.exitCode());
        List<JsonNode> docs = documents(run.out());
        assertThat(docs).as("stdout carries exactly the command's document").hasSize(1);
        assertThat(docs.get(0).path("status").asText()).isEqualTo("failed");

        assertThat(ding.accepted()).as(run.logs()).hasSize(1);
        String text = JSON.readTree(ding.accepted().get(0).body()).path("text").path("content").asText();
        assertThat(text).contains("dify-dr backup FAILED on prod", "exit code 4", "authentication failed").doesNotContain("schedule");

        JsonNode event = JSON.readTree(webhook.accepted().get(0).body());
        assertThat(event.path("event").asText()).isEqualTo("failure");
        assertThat(event.path("job").asText()).isEqualTo("backup");
        assertThat(event.path("exitCode").asInt()).isEqualTo(4);
        assertThat(event.path("error").asText()).isEqualTo(docs.get(0).path("error").path("message").asText());

        assertThat(gateway.pushes()).hasSize(1);
        RecordingPushgateway.Push push = gateway.pushes().get(0);
        assertThat(push.grouping()).isEqualTo(Map.of("job", "dify-dr", "deployment", "prod", "command", "backup"));
        Map<String, Double> samples = ScrapeText.samples(push.body());
        double failedAt = samples.get("dify_dr_job_last_failure_timestamp_seconds{command=\"backup\",deployment=\"prod\",schedule=\"\"}");
        assertThat(failedAt).isBetween(before.getEpochSecond() - 1.0, Instant.now().getEpochSecond() + 1.0);
        assertThat(samples).containsEntry("dify_dr_job_last_exit_code{command=\"backup\",deployment=\"prod\",schedule=\"\"}", 4.0);

        for (String secret : List.of(wrong, SIGNING_SECRET, WebhookReceiver.TOKEN)) {
            assertThat(run.everything()).doesNotContain(secret);
            assertThat(ding.received()).allSatisfy(r -> assertThat(r.body()).doesNotContain(secret));
            assertThat(webhook.received()).allSatisfy(r -> assertThat(r.body()).doesNotContain(secret));
            assertThat(push.body()).doesNotContain(secret);
        }
    }

    @Test
    void aRunStartedByTheSchedulerNamesItsScheduleAndDoesNotPush() throws IOException {
        Path config = config("wrong-" + UUID.randomUUID());

        CliRun run = CliRun.of(Map.of("DIFY_DR_SCHEDULE", "nightly", "DIFY_DR_SCHEDULER", "1")::get, "--config", config.toString(), "backup");

        assertThat(run.code()).isEqualTo(Failure.SOURCE.exitCode());
        assertThat(gateway.pushes()).isEmpty();
        assertThat(JSON.readTree(webhook.accepted().get(0).body()).path("schedule").asText()).isEqualTo("nightly");
        assertThat(JSON.readTree(ding.accepted().get(0).body()).path("text").path("content").asText()).contains("(schedule nightly)");
    }

    @Test
    void anUnreachableTargetAndPushgatewayLeaveTheExitCodeAlone() throws IOException {
        Path config = config("wrong-" + UUID.randomUUID());
        ding.silent();
        gateway.answer(500);

        long t0 = System.nanoTime();
        CliRun run = CliRun.of(name -> null, "--config", config.toString(), "--json", "backup");

        assertThat(run.code()).isEqualTo(Failure.SOURCE.exitCode());
        assertThat(documents(run.out())).hasSize(1);
        assertThat(webhook.accepted()).hasSize(1);
        assertThat(run.logs()).contains("could not push metrics to the Pushgateway");
        // the notifier's budget (30 s) bounds the silent robot
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(45.0);
    }
}
