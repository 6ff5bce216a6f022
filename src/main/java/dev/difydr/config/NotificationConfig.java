package dev.difydr.config;

import java.util.List;

/**
 * One webhook target: {@code type} {@code webhook} (generic JSON), {@code slack}, {@code dingtalk}, {@code feishu} (also
 * Lark) or {@code wecom}; {@code url}; {@code secret} (the signing secret of DingTalk and Feishu robots, a secret
 * reference); {@code on}: which events it hears, {@code failure}, {@code success}, {@code drill} (default: failure).
 */
public record NotificationConfig(String type, String url, String secret, List<String> on) {
    public NotificationConfig {
        on = on == null ? List.of("failure") : List.copyOf(on);
    }
}
