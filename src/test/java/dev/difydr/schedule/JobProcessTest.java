package dev.difydr.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.Failure;
import dev.difydr.observe.JobOutcome;
import dev.difydr.observe.Metrics;
import dev.difydr.repository.Json;
import dev.difydr.testsupport.RecordingPushgateway;
import dev.difydr.testsupport.WebhookReceiver;
import dev.difydr.testsupport.WebhookReceiver.Vendor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fires run as real child JVMs of the test class path; their JSON document and exit code become the outcome. */
class JobProcessTest {
    @TempDir
    Path dir;

    private JobProcess process(Path config) {
        return new JobProcess(JobProcess.javaOfThisProcess(Map.of("DIFY_DR_JAVA_OPTS", "-Xmx64m -XX:+UseSerialGC -Xshare:auto")), config,
                "prod", new Metrics(), Clock.systemUTC());
    }

    @Test
    void commandLineIsThisJvmWithItsClassPathAndTheSameConfiguration() {
        JobProcess p = process(Path.of("conf/dify-dr.yaml"));

        List<String> cmd = p.command(List.of("backup", "--only", "redis"));

        assertThat(cmd.get(0)).endsWith("java");
        assertThat(cmd).containsSubsequence("-Xmx64m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "dev.difydr.Main",
                "--config", Path.of("conf/dify-dr.yaml").toAbsolutePath().toString(), "--json", "backup", "--only", "redis");
        assertThat(JobProcess.javaOfThisProcess(Map.of())).containsSubsequence("-cp", System.getProperty("java.class.path"), "dev.difydr.Main");
    }

    @Test
    void aFailingJobIsAnOutcomeWithItsExitCodeAndError() throws Exception {
        Path config = Files.writeString(dir.resolve("dify-dr.yaml"), "repository: {url: 'file://" + dir.resolve("repo") + "'}\n");

        JobOutcome outcome = process(config).run("weekly-verify", "verify", List.of("verify", "latest"), Instant.now());

        assertThat(outcome.exitCode()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(outcome.succeeded()).isFalse();
        assertThat(outcome.error()).contains("no completed backup of deployment 'dify'");
        assertThat(outcome.schedule()).isEqualTo("weekly-verify");
        assertThat(outcome.job()).isEqualTo("verify");
        assertThat(outcome.deployment()).isEqualTo("prod");
        assertThat(outcome.finishedAt()).isAfter(outcome.startedAt());
    }

    /** The child names its schedule in its notification and leaves its metrics to the scheduler: it does not push. */
    @Test
    void theChildNamesItsScheduleAndDoesNotPush() throws Exception {
        try (RecordingPushgateway gateway = RecordingPushgateway.start();
             WebhookReceiver webhook = WebhookReceiver.start(Vendor.GENERIC, null)) {
            Path config = Files.writeString(dir.resolve("dify-dr.yaml"), """
                    repository: {url: '%s'}
                    metrics: {pushgateway: "%s"}
                    notifications:
                      - {type: webhook, url: "%s", on: [failure]}
                    """.formatted(dir.resolve("repo").toUri(), gateway.url(), webhook.url()));

            JobOutcome outcome = process(config).run("weekly-verify", "verify", List.of("verify", "latest"), Instant.now());

            assertThat(outcome.exitCode()).isEqualTo(Failure.VERIFY.exitCode());
            assertThat(webhook.accepted()).hasSize(1);
            assertThat(Json.MAPPER.readTree(webhook.accepted().get(0).body()).path("schedule").asText()).isEqualTo("weekly-verify");
            assertThat(gateway.pushes()).isEmpty();
        }
    }

    @Test
    void aJobThatCannotReadItsConfigurationFailsWithTheConfigurationCode() {
        JobOutcome outcome = process(dir.resolve("missing.yaml")).run("nightly", "backup", List.of("backup"), Instant.now());

        assertThat(outcome.exitCode()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(outcome.error()).contains("missing.yaml not found");
    }

    @Test
    void nothingStartsOnceTheScheduleIsStopping() {
        JobProcess p = process(dir.resolve("dify-dr.yaml"));
        p.stopRunning(java.time.Duration.ZERO, java.time.Duration.ZERO);

        assertThat(p.run("nightly", "backup", List.of("backup"), Instant.now())).isNull();
        assertThat(p.busy()).isFalse();
    }
}
