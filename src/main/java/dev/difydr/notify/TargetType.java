package dev.difydr.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.difydr.config.Secret;
import dev.difydr.repository.Json;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The wire format of each kind of notification target: the request's URL and JSON body, and whether an answer means the
 * message was delivered. Checked against the vendors' documentation:
 * <ul>
 *   <li>Slack incoming webhooks: POST {@code {"text": …}}, answered {@code 200 ok}, errors as 4xx
 *       (https://docs.slack.dev/tools/java-slack-sdk/guides/incoming-webhooks).</li>
 *   <li>DingTalk custom robot: POST {@code {"msgtype":"text","text":{"content":…}}} to
 *       {@code oapi.dingtalk.com/robot/send?access_token=…}; with 加签, {@code sign} = urlEncode(Base64(HmacSHA256(key:
 *       secret, data: timestamp + "\n" + secret))), timestamp in milliseconds within an hour of DingTalk's clock, both
 *       appended as {@code &timestamp=…&sign=…}; answered HTTP 200 with {@code {"errcode":0,"errmsg":"ok"}}, a bad
 *       signature with {@code errcode 310000} (https://apifox.com/apidoc/docs-site/467052/doc-3550006, a copy of
 *       open.dingtalk.com's custom-robot security settings; https://cnblogs.com/huawublog/p/12186923.html).</li>
 *   <li>Feishu / Lark custom bot: POST {@code {"msg_type":"text","content":{"text":…}}} to
 *       {@code open.feishu.cn/open-apis/bot/v2/hook/<token>}; with signature verification, {@code sign} =
 *       Base64(HmacSHA256(key: timestamp + "\n" + secret, data: empty)), timestamp in seconds, both in the body;
 *       answered HTTP 200 with {@code {"code":0,…}} (older deployments {@code {"StatusCode":0,…}}), a bad signature with
 *       {@code code 19021} (https://m.down10s.com/jiaocheng/5605312225.html, quoting open.feishu.cn's custom-bot guide;
 *       https://github.com/go-gitea/gitea/pull/34802, which implemented it from the same guide).</li>
 *   <li>WeCom group robot: POST {@code {"msgtype":"text","text":{"content":…}}} (content at most 2048 bytes) to
 *       {@code qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…}; no signature, the key is the credential; answered
 *       {@code {"errcode":0,"errmsg":"ok"}} (https://docs.zhuonian.xyz/api/wecom-webhook.html, after
 *       developer.work.weixin.qq.com/document/path/91770).</li>
 * </ul>
 */
enum TargetType {
    WEBHOOK {
        @Override
        ObjectNode body(Message m, Secret secret, Instant now) {
            return m.fields().deepCopy();
        }
    },
    SLACK {
        @Override
        ObjectNode body(Message m, Secret secret, Instant now) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            body.put("text", m.text());
            return body;
        }
    },
    DINGTALK {
        @Override
        URI uri(URI url, Secret secret, Instant now) {
            if (secret == null) {
                return url;
            }
            long timestamp = now.toEpochMilli();
            String sign = hmacBase64(secret.reveal(), timestamp + "\n" + secret.reveal());
            String query = "timestamp=" + timestamp + "&sign=" + URLEncoder.encode(sign, StandardCharsets.UTF_8);
            return URI.create(url + (url.getRawQuery() == null ? "?" : "&") + query);
        }

        @Override
        ObjectNode body(Message m, Secret secret, Instant now) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            body.put("msgtype", "text");
            body.putObject("text").put("content", m.text());
            return body;
        }

        @Override
        String refusal(JsonNode answer) {
            return errcode(answer);
        }
    },
    FEISHU {
        @Override
        ObjectNode body(Message m, Secret secret, Instant now) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            if (secret != null) {
                long timestamp = now.getEpochSecond();
                body.put("timestamp", Long.toString(timestamp));
                body.put("sign", hmacBase64(timestamp + "\n" + secret.reveal(), ""));
            }
            body.put("msg_type", "text");
            body.putObject("content").put("text", m.text());
            return body;
        }

        @Override
        String refusal(JsonNode answer) {
            JsonNode code = answer.has("code") ? answer.get("code") : answer.get("StatusCode");
            if (code != null && code.canConvertToInt() && code.asInt() == 0) {
                return null;
            }
            String msg = answer.has("msg") ? answer.path("msg").asText() : answer.path("StatusMessage").asText();
            return "code " + (code == null ? "missing" : code.asText()) + (msg.isEmpty() ? "" : " " + msg);
        }
    },
    WECOM {
        /** WeCom refuses a text message over 2048 bytes (errcode 40058). */
        private static final int MAX_BYTES = 2048;

        @Override
        ObjectNode body(Message m, Secret secret, Instant now) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            body.put("msgtype", "text");
            body.putObject("text").put("content", truncate(m.text(), MAX_BYTES));
            return body;
        }

        @Override
        String refusal(JsonNode answer) {
            return errcode(answer);
        }
    };

    static TargetType named(String type) {
        return type.equals("lark") ? FEISHU : valueOf(type.toUpperCase(java.util.Locale.ROOT));
    }

    /** The URL to POST to (DingTalk signs in the query). */
    URI uri(URI url, Secret secret, Instant now) {
        return url;
    }

    abstract ObjectNode body(Message m, Secret secret, Instant now);

    /**
     * Why a 2xx answer still means "not delivered" (chat robots answer HTTP 200 with an error code), or null when it was
     * delivered. {@code answer} is the parsed body, or a missing node when it was not JSON.
     */
    String refusal(JsonNode answer) {
        return null;
    }

    /** Whether the answer's body must be JSON for the delivery to count. */
    boolean answersJson() {
        return this == DINGTALK || this == FEISHU || this == WECOM;
    }

    private static String errcode(JsonNode answer) {
        JsonNode code = answer.get("errcode");
        if (code != null && code.canConvertToInt() && code.asInt() == 0) {
            return null;
        }
        return "errcode " + (code == null ? "missing" : code.asText()) + " " + answer.path("errmsg").asText();
    }

    static String hmacBase64(String key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return Base64.getEncoder().encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /** At most {@code max} bytes of UTF-8, cut at a character boundary (the encoder stops before a character that does not fit). */
    static String truncate(String text, int max) {
        if (text.getBytes(StandardCharsets.UTF_8).length <= max) {
            return text;
        }
        String marker = "\n…";
        CharBuffer in = CharBuffer.wrap(text);
        StandardCharsets.UTF_8.newEncoder().encode(in, ByteBuffer.allocate(max - marker.getBytes(StandardCharsets.UTF_8).length), true);
        return text.substring(0, in.position()) + marker;
    }
}
