package dev.difydr.config;

import java.net.URI;
import java.util.List;

/**
 * One webhook target: {@code type} {@code webhook} (generic JSON), {@code slack}, {@code dingtalk}, {@code feishu} (also
 * {@code lark}) or {@code wecom}; {@code url}; {@code secret} (the signing secret of a DingTalk or Feishu robot, from
 * {@code ${env:…}} or {@code ${file:…}}); {@code on}: which events it hears, {@code failure}, {@code success},
 * {@code drill} (default: failure).
 *
 * <p>The URL is a credential too (Slack's and Feishu's tokens are in its path, DingTalk's and WeCom's in its query):
 * {@link #toString()} and {@link #where()} show only its scheme, host and port.
 */
public record NotificationConfig(String type, String url, Secret secret, List<String> on) {
    public static final List<String> TYPES = List.of("webhook", "slack", "dingtalk", "feishu", "lark", "wecom");
    public static final List<String> EVENTS = List.of("failure", "success", "drill");

    public NotificationConfig {
        on = on == null ? List.of("failure") : List.copyOf(on);
        secret = secret == null || secret.isEmpty() ? null : secret;
    }

    /** The target as logs may show it: type and the URL's origin, never its path or query. */
    public String where() {
        try {
            URI u = new URI(url);
            return type + " " + u.getScheme() + "://" + u.getHost() + (u.getPort() == -1 ? "" : ":" + u.getPort());
        } catch (Exception e) {
            return type + " (unparsable URL)";
        }
    }

    @Override
    public String toString() {
        return "NotificationConfig[" + where() + ", on=" + on + (secret == null ? "" : ", secret=" + Secret.MASK) + "]";
    }
}
