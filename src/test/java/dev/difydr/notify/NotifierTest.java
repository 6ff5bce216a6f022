package dev.difydr.notify;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.config.NotificationConfig;
import dev.difydr.config.Secret;
import dev.difydr.observe.JobOutcome;
import dev.difydr.repository.Json;
import dev.difydr.testsupport.WebhookReceiver;
import dev.difydr.testsupport.WebhookReceiver.Vendor;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Notifications against servers that check what each vendor checks. */
class NotifierTest {
    private static final String SECRET = "SECd1f7dr-signing-secret-0123456789abcdef";

    private final List<WebhookReceiver> receivers = new ArrayList<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    @BeforeEach
    void captureLogs() {
        logs.start();
        root.addAppender(logs);
    }

    @AfterEach
    void stop() {
        root.detachAppender(logs);
        receivers.forEach(WebhookReceiver::close);
    }

    private WebhookReceiver receiver(Vendor vendor, String secret) {
        WebhookReceiver r = WebhookReceiver.start(vendor, secret);
        receivers.add(r);
        return r;
    }

    private static JobOutcome failedBackup(String error) {
        Instant end = Instant.now();
        return new JobOutcome("prod", "backup", "nightly", end.minusSeconds(42), end, 4, "failed", error, null,
                Map.of(), null, null, null);
    }

    private static JobOutcome passedDrill() {
        Instant end = Instant.now();
        return new JobOutcome("prod", "drill", null, end.minusSeconds(90), end, 0, "passed", null, "20261205T020000Z-abcd",
                Map.of(), null, Duration.ofMillis(81_500), Duration.ofSeconds(3_600));
    }

    private static Notifier notifier(List<NotificationConfig> targets, Duration budget) {
        return new Notifier(targets, new Redaction(List.of(SECRET, WebhookReceiver.TOKEN)), Clock.systemUTC(), 3,
                Duration.ofMillis(50), Duration.ofSeconds(2), budget);
    }

    private static NotificationConfig target(String type, WebhookReceiver r, String secret, String... on) {
        return new NotificationConfig(type, r.url(), secret == null ? null : Secret.of(secret), on.length == 0 ? null : List.of(on));
    }

    private List<String> logLines() {
        return logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void signedDingTalkIsAccepted() throws IOException {
        WebhookReceiver ding = receiver(Vendor.DINGTALK, SECRET);

        assertThat(notifier(List.of(target("dingtalk", ding, SECRET)), Duration.ofSeconds(10)).send(failedBackup("pg_dump exited 1"))).isEqualTo(1);

        assertThat(ding.received()).hasSize(1);
        WebhookReceiver.Received r = ding.accepted().get(0);
        assertThat(r.rawQuery()).startsWith("access_token=" + WebhookReceiver.TOKEN + "&timestamp=").contains("&sign=");
        JsonNode body = Json.MAPPER.readTree(r.body());
        assertThat(body.path("msgtype").asText()).isEqualTo("text");
        assertThat(body.path("text").path("content").asText()).contains("dify-dr backup FAILED on prod (schedule nightly)", "pg_dump exited 1");
        assertThat(r.body()).doesNotContain(SECRET);
    }

    @Test
    void dingTalkSignatureIsUrlEncoded() throws Exception {
        // a moment whose signature holds a '+': sent unencoded, DingTalk would read it as a space
        long ms = System.currentTimeMillis();
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8), "HmacSHA256"));
        while (!java.util.Base64.getEncoder().encodeToString(mac.doFinal((ms + "\n" + SECRET).getBytes(java.nio.charset.StandardCharsets.UTF_8))).contains("+")) {
            ms--;
        }
        WebhookReceiver ding = receiver(Vendor.DINGTALK, SECRET);
        Notifier fixed = new Notifier(List.of(target("dingtalk", ding, SECRET)), new Redaction(List.of(SECRET)),
                Clock.fixed(Instant.ofEpochMilli(ms), java.time.ZoneOffset.UTC), 1, Duration.ofMillis(50), Duration.ofSeconds(2), Duration.ofSeconds(5));

        assertThat(fixed.send(failedBackup("x"))).as(String.join("\n", logLines())).isEqualTo(1);
        assertThat(ding.accepted().get(0).rawQuery()).contains("&timestamp=" + ms + "&sign=").contains("%2B");
    }

    @Test
    void dingTalkWithTheWrongSecretIsRefusedLikeDingTalkDoesAndRetried() {
        WebhookReceiver ding = receiver(Vendor.DINGTALK, SECRET);

        int delivered = notifier(List.of(target("dingtalk", ding, "SECsome-other-secret-value")), Duration.ofSeconds(10)).send(failedBackup("x"));

        assertThat(delivered).isZero();
        assertThat(ding.received()).hasSize(3).noneMatch(WebhookReceiver.Received::accepted);
        assertThat(logLines()).anyMatch(l -> l.contains("errcode 310000") && l.contains("giving up"));
    }

    @Test
    void signedFeishuIsAcceptedAndAWrongSignatureIsNot() throws IOException {
        WebhookReceiver feishu = receiver(Vendor.FEISHU, SECRET);

        assertThat(notifier(List.of(target("feishu", feishu, SECRET, "drill")), Duration.ofSeconds(10)).send(passedDrill())).isEqualTo(1);
        JsonNode body = Json.MAPPER.readTree(feishu.accepted().get(0).body());
        assertThat(body.path("msg_type").asText()).isEqualTo("text");
        assertThat(body.path("timestamp").asText()).matches("\\d{10}");
        assertThat(body.path("content").path("text").asText()).contains("dify-dr drill passed on prod", "RTO: 81.5 s", "RPO: 3600 s");

        WebhookReceiver other = receiver(Vendor.FEISHU, SECRET);
        assertThat(notifier(List.of(target("lark", other, "wrong-secret-value", "drill")), Duration.ofSeconds(10)).send(passedDrill())).isZero();
        assertThat(logLines()).anyMatch(l -> l.contains("code 19021"));
    }

    @Test
    void unsignedRobotsSlackWeComAndTheGenericWebhook() throws IOException {
        WebhookReceiver slack = receiver(Vendor.SLACK, null);
        WebhookReceiver wecom = receiver(Vendor.WECOM, null);
        WebhookReceiver generic = receiver(Vendor.GENERIC, null);
        WebhookReceiver dingUnsigned = receiver(Vendor.DINGTALK, null);
        // a long error: WeCom refuses a text over 2048 bytes
        String longError = "pg_dump: error: 数据库连接失败 ".repeat(200);

        int delivered = notifier(List.of(target("slack", slack, null), target("wecom", wecom, null), target("webhook", generic, null),
                target("dingtalk", dingUnsigned, null)), Duration.ofSeconds(10)).send(failedBackup(longError));

        assertThat(delivered).as(String.join("\n", logLines())).isEqualTo(4);
        assertThat(Json.MAPPER.readTree(slack.accepted().get(0).body()).path("text").asText()).startsWith("dify-dr backup FAILED");
        assertThat(Json.MAPPER.readTree(wecom.accepted().get(0).body()).path("text").path("content").asText()).endsWith("…");
        JsonNode doc = Json.MAPPER.readTree(generic.accepted().get(0).body());
        assertThat(doc.path("event").asText()).isEqualTo("failure");
        assertThat(doc.path("deployment").asText()).isEqualTo("prod");
        assertThat(doc.path("job").asText()).isEqualTo("backup");
        assertThat(doc.path("schedule").asText()).isEqualTo("nightly");
        assertThat(doc.path("status").asText()).isEqualTo("failed");
        assertThat(doc.path("exitCode").asInt()).isEqualTo(4);
        assertThat(doc.path("durationSeconds").asDouble()).isEqualTo(42.0);
        assertThat(doc.path("error").asText()).isEqualTo(longError);
        assertThat(doc.has("backupId")).isTrue();
    }

    @Test
    void targetsHearOnlyTheirEvents() {
        WebhookReceiver failures = receiver(Vendor.GENERIC, null);
        WebhookReceiver successes = receiver(Vendor.GENERIC, null);
        WebhookReceiver drills = receiver(Vendor.GENERIC, null);
        Notifier n = notifier(List.of(target("webhook", failures, null), target("webhook", successes, null, "success"),
                target("webhook", drills, null, "drill")), Duration.ofSeconds(10));

        n.send(failedBackup("x"));
        n.send(passedDrill());

        assertThat(failures.received()).hasSize(1);
        assertThat(successes.received()).hasSize(1);
        assertThat(drills.received()).hasSize(1);
        assertThat(drills.received().get(0).body()).contains("\"event\" : \"drill\"");
    }

    @Test
    void retriesAfterServerErrorsThenDelivers() {
        WebhookReceiver wecom = receiver(Vendor.WECOM, null);
        wecom.failNext(2);

        assertThat(notifier(List.of(target("wecom", wecom, null)), Duration.ofSeconds(10)).send(failedBackup("x"))).isEqualTo(1);

        assertThat(wecom.received()).hasSize(3);
        assertThat(wecom.accepted()).hasSize(1);
        assertThat(logLines()).filteredOn(l -> l.contains("HTTP 500") && l.contains("retrying")).hasSize(2);
    }

    @Test
    void aClientErrorIsNotRetried() {
        WebhookReceiver slack = receiver(Vendor.SLACK, null);
        NotificationConfig revoked = new NotificationConfig("slack", slack.url().replace(WebhookReceiver.TOKEN, "revoked-webhook-token"), null, null);

        assertThat(notifier(List.of(revoked), Duration.ofSeconds(10)).send(failedBackup("x"))).isZero();

        assertThat(slack.received()).hasSize(1);
        assertThat(logLines()).anyMatch(l -> l.contains("HTTP 404") && l.contains("giving up"));
    }

    @Test
    void aReceiverThatNeverAnswersCostsAtMostTheBudget() {
        WebhookReceiver silent = receiver(Vendor.SLACK, null);
        silent.silent();
        WebhookReceiver healthy = receiver(Vendor.SLACK, null);

        long t0 = System.nanoTime();
        int delivered = notifier(List.of(target("slack", silent, null), target("slack", healthy, null)), Duration.ofMillis(1500))
                .send(failedBackup("x"));

        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(2500));
        assertThat(delivered).isEqualTo(1);
        assertThat(healthy.accepted()).hasSize(1);
        assertThat(logLines()).anyMatch(l -> l.contains("slack http://127.0.0.1:"));
    }

    @Test
    void secretsAndTokensNeverReachABodyOrALog() {
        WebhookReceiver ding = receiver(Vendor.DINGTALK, SECRET);
        WebhookReceiver slack = receiver(Vendor.SLACK, null);
        slack.failNext(1);
        // an error message that carries the secret and the robot's token anyway
        String leaky = "connect failed: password=" + SECRET + " at " + ding.url();

        notifier(List.of(target("dingtalk", ding, SECRET), target("slack", slack, null)), Duration.ofSeconds(10)).send(failedBackup(leaky));

        assertThat(ding.accepted()).hasSize(1);
        assertThat(slack.accepted()).hasSize(1);
        for (WebhookReceiver r : List.of(ding, slack)) {
            assertThat(r.received()).allSatisfy(req -> assertThat(req.body()).doesNotContain(SECRET).doesNotContain(WebhookReceiver.TOKEN)
                    .contains(Secret.MASK));
        }
        assertThat(logLines()).isNotEmpty().allSatisfy(l -> assertThat(l).doesNotContain(SECRET).doesNotContain(WebhookReceiver.TOKEN)
                .doesNotContain("/services/").doesNotContain("access_token"));
    }
}
