package dev.difydr.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code metrics} and {@code notifications} sections. */
class ObservabilityConfigTest {
    private static final String REPOSITORY = "repository:\n  url: file:///var/backups/dify\n";
    private final ConfigLoader loader = new ConfigLoader(Map.of("DINGTALK_URL", "https://oapi.dingtalk.com/robot/send?access_token=t0k3n-value",
            "DINGTALK_SECRET", "SECabcdef0123456789")::get);

    private String problems(String yaml) {
        DrException e = catchThrowableOfType(DrException.class, () -> loader.parse(REPOSITORY + yaml, "test.yaml"));
        assertThat(e).as("refused:%n%s", yaml).isNotNull();
        assertThat(e.failure()).isEqualTo(Failure.CONFIG);
        return e.getMessage();
    }

    @Test
    void validSections() {
        Config c = loader.parse(REPOSITORY + """
                metrics: {port: 9464, pushgateway: "http://pushgateway.monitoring.svc:9091"}
                notifications:
                  - {type: dingtalk, url: "${env:DINGTALK_URL}", secret: "${env:DINGTALK_SECRET}", on: [failure, drill]}
                  - {type: lark, url: "https://open.larksuite.com/open-apis/bot/v2/hook/abc"}
                  - {type: webhook, url: "http://alerts.internal/dify-dr", on: [failure, success, drill]}
                """, "test.yaml");

        assertThat(c.metrics()).isEqualTo(new MetricsConfig(9464, "http://pushgateway.monitoring.svc:9091"));
        assertThat(c.notifications()).hasSize(3);
        NotificationConfig ding = c.notifications().get(0);
        assertThat(ding.secret().reveal()).isEqualTo("SECabcdef0123456789");
        assertThat(ding.on()).containsExactly("failure", "drill");
        assertThat(c.notifications().get(1).on()).containsExactly("failure");
        assertThat(ding.toString()).doesNotContain("t0k3n-value").doesNotContain("SECabcdef0123456789").contains("https://oapi.dingtalk.com");
    }

    @Test
    void everyProblemAtOnceWithItsKey() {
        String message = problems("""
                metrics: {port: 70000, pushgateway: "pushgateway:9091"}
                notifications:
                  - {type: teams, url: "https://example.org/hook"}
                  - {type: slack, url: "ftp://hooks.slack.com/services/T/B/secret-path", on: [failure, sometimes]}
                  - {type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", secret: "abc", on: []}
                  - {type: feishu}
                """);

        assertThat(message).contains(
                "metrics.port: port 70000 is out of range",
                "metrics.pushgateway: 'pushgateway:9091' must be an http(s) URL",
                "notifications[0].type: 'teams' must be one of webhook, slack, dingtalk, feishu, lark, wecom",
                "notifications[1].url: must be an http(s) URL",
                "notifications[1].on: 'sometimes' must be one of failure, success, drill",
                "notifications[2].secret: only DingTalk and Feishu/Lark robots sign",
                "notifications[2].on: the list is empty",
                "notifications[3].url: missing required key");
        assertThat(message).doesNotContain("secret-path");
    }

    @Test
    void pushgatewayWithAPathIsRefused() {
        assertThat(problems("metrics: {pushgateway: \"http://gw:9091/metrics/job/x\"}\n")).contains("metrics.pushgateway: give only scheme, host and port");
        assertThat(problems("metrics: {pushgateway: \"http://user:pw@gw:9091\"}\n")).contains("metrics.pushgateway: give only scheme, host and port");
    }

    @Test
    void signingTargetsMayGoWithoutASecret() {
        Config c = loader.parse(REPOSITORY + "notifications: [{type: dingtalk, url: \"https://oapi.dingtalk.com/robot/send?access_token=x\"}]\n", "t");
        assertThat(c.notifications().get(0).secret()).isNull();
        assertThat(c.notifications()).extracting(NotificationConfig::type).isEqualTo(List.of("dingtalk"));
    }
}
