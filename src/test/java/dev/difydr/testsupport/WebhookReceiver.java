package dev.difydr.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An HTTP server in the test JVM that answers like a chat vendor's webhook and checks what the vendor checks: the
 * token in the URL, the body's shape, and, with a secret, the signature, recomputed here from the vendor's description
 * (not from the production code) and refused the way the vendor refuses it (DingTalk {@code errcode 310000}, Feishu
 * {@code code 19021}, both with HTTP 200). It records every request.
 */
public final class WebhookReceiver implements AutoCloseable {
    public enum Vendor { GENERIC, SLACK, DINGTALK, FEISHU, WECOM }

    /** One request as received; {@code accepted}: whether the vendor would have delivered it. */
    public record Received(String method, String path, String rawQuery, String contentType, String body, boolean accepted) {
    }

    public static final String TOKEN = "tok3n-0f-the-r0bot";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Vendor vendor;
    private final String secret;
    private final HttpServer server;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger failures = new AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile boolean silent;

    private WebhookReceiver(Vendor vendor, String secret) throws IOException {
        this.vendor = vendor;
        this.secret = secret;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "receiver-" + vendor);
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    /** {@code secret}: the robot's signing secret (DingTalk, Feishu), or null for a robot that does not check one. */
    public static WebhookReceiver start(Vendor vendor, String secret) {
        try {
            return new WebhookReceiver(vendor, secret);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The webhook URL the vendor would hand out, token included. */
    public String url() {
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        return switch (vendor) {
            case GENERIC -> base + "/hooks/dify-dr";
            case SLACK -> base + "/services/T000/B000/" + TOKEN;
            case DINGTALK -> base + "/robot/send?access_token=" + TOKEN;
            case FEISHU -> base + "/open-apis/bot/v2/hook/" + TOKEN;
            case WECOM -> base + "/cgi-bin/webhook/send?key=" + TOKEN;
        };
    }

    /** Answers the next {@code n} requests with HTTP 500. */
    public void failNext(int n) {
        failures.set(n);
    }

    /** Accepts connections and requests, and never answers them (until closed). */
    public void silent() {
        silent = true;
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    public List<Received> accepted() {
        return received.stream().filter(Received::accepted).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String query = exchange.getRequestURI().getRawQuery();
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        if (silent) {
            received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), query, contentType, body, false));
            try {
                released.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
            return;
        }
        if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), query, contentType, body, false));
            answer(exchange, 500, "text/plain", "upstream unavailable");
            return;
        }
        Answer a = check(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), params(query), body);
        received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), query, contentType, body, a.accepted));
        answer(exchange, a.status, a.json ? "application/json" : "text/plain", a.body);
    }

    private record Answer(int status, boolean json, String body, boolean accepted) {
    }

    private Answer check(String method, String path, Map<String, String> query, String body) {
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            json = null;
        }
        boolean post = method.equals("POST") && json != null && json.isObject();
        switch (vendor) {
            case GENERIC:
                return post ? new Answer(200, true, "{}", true) : new Answer(400, false, "bad request", false);
            case SLACK:
                if (!path.equals("/services/T000/B000/" + TOKEN)) {
                    return new Answer(404, false, "no_service", false);
                }
                return post && json.path("text").isTextual() ? new Answer(200, false, "ok", true) : new Answer(400, false, "invalid_payload", false);
            case DINGTALK: {
                if (!TOKEN.equals(query.get("access_token"))) {
                    return new Answer(200, true, "{\"errcode\":300001,\"errmsg\":\"token is not exist\"}", false);
                }
                if (secret != null) {
                    String ts = query.get("timestamp");
                    String sign = query.get("sign");
                    boolean fresh = ts != null && ts.matches("\\d{13}") && Math.abs(System.currentTimeMillis() - Long.parseLong(ts)) < 3_600_000;
                    if (!fresh || sign == null || !sign.equals(hmac(secret, ts + "\n" + secret))) {
                        return new Answer(200, true, "{\"errcode\":310000,\"errmsg\":\"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]\"}", false);
                    }
                }
                if (!post || !"text".equals(json.path("msgtype").asText()) || !json.path("text").path("content").isTextual()) {
                    return new Answer(200, true, "{\"errcode\":40035,\"errmsg\":\"缺少参数 json\"}", false);
                }
                return new Answer(200, true, "{\"errcode\":0,\"errmsg\":\"ok\"}", true);
            }
            case FEISHU: {
                if (!path.equals("/open-apis/bot/v2/hook/" + TOKEN)) {
                    return new Answer(404, true, "{\"code\":19001,\"msg\":\"param invalid: incoming webhook access token invalid\",\"data\":{}}", false);
                }
                if (!post) {
                    return new Answer(400, true, "{\"code\":9499,\"msg\":\"Bad Request\",\"data\":{}}", false);
                }
                if (secret != null) {
                    String ts = json.path("timestamp").asText();
                    String sign = json.path("sign").asText();
                    boolean fresh = ts.matches("\\d{10}") && Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(ts)) < 3600;
                    if (!fresh || !sign.equals(hmac(ts + "\n" + secret, ""))) {
                        return new Answer(200, true, "{\"code\":19021,\"msg\":\"sign match fail or timestamp is not within one hour from current time\",\"data\":{}}", false);
                    }
                }
                if (!"text".equals(json.path("msg_type").asText()) || !json.path("content").path("text").isTextual()) {
                    return new Answer(200, true, "{\"code\":19002,\"msg\":\"params error, msg_type need\",\"data\":{}}", false);
                }
                return new Answer(200, true, "{\"StatusCode\":0,\"StatusMessage\":\"success\",\"code\":0,\"data\":{},\"msg\":\"success\"}", true);
            }
            case WECOM: {
                if (!TOKEN.equals(query.get("key"))) {
                    return new Answer(200, true, "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}", false);
                }
                if (!post || !"text".equals(json.path("msgtype").asText()) || !json.path("text").path("content").isTextual()) {
                    return new Answer(200, true, "{\"errcode\":40008,\"errmsg\":\"invalid message type\"}", false);
                }
                if (json.path("text").path("content").asText().getBytes(StandardCharsets.UTF_8).length > 2048) {
                    return new Answer(200, true, "{\"errcode\":40058,\"errmsg\":\"content exceed max length 2048\"}", false);
                }
                return new Answer(200, true, "{\"errcode\":0,\"errmsg\":\"ok\"}", true);
            }
            default:
                throw new IllegalStateException();
        }
    }

    private static String hmac(String key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return Base64.getEncoder().encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> params(String rawQuery) {
        Map<String, String> out = new HashMap<>();
        if (rawQuery != null) {
            for (String pair : rawQuery.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    out.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    private static void answer(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType + "; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @Override
    public void close() {
        released.countDown();
        server.stop(0);
    }
}
