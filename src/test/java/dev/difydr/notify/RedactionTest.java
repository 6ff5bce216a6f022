package dev.difydr.notify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactionTest {
    @Test
    void masksSecretsAndWebhookTokensButNotOrdinaryWords() {
        Config config = new ConfigLoader(Map.of("PG", "pg-password-123", "FEISHU", "SECfeishu-signing")::get).parse("""
                repository: {url: "file:///var/backups/dify"}
                postgres: {host: db, password: "${env:PG}"}
                notifications:
                  - {type: slack, url: "https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"}
                  - {type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"}
                  - {type: feishu, url: "https://open.feishu.cn/open-apis/bot/v2/hook/0b5e1e6f-1c0c-4d2f-9a37-5c0ad0e3e1a2", secret: "${env:FEISHU}"}
                  - {type: webhook, url: "https://alerts.example/hooks/dify-dr"}
                """, "test.yaml");
        Redaction r = Redaction.of(config);

        String text = "dify-dr backup failed: pg-password-123 refused; posted to https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX "
                + "key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa hook 0b5e1e6f-1c0c-4d2f-9a37-5c0ad0e3e1a2 SECfeishu-signing";

        assertThat(r.apply(text)).isEqualTo("dify-dr backup failed: ****** refused; posted to ****** key=****** hook ****** ******");
        assertThat(r.apply(null)).isNull();
    }
}
