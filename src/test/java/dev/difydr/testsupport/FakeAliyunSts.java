package dev.difydr.testsupport;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * Aliyun STS's AssumeRoleWithOIDC in the test JVM, over HTTPS as the credentials library only speaks HTTPS to STS. It
 * takes the request as STS does (POST, Action/Format/Version in the query, the parameters as a form body: RoleArn,
 * OIDCProviderArn, OIDCToken, RoleSessionName, DurationSeconds) and answers with STS's JSON: RequestId, OIDCTokenInfo,
 * AssumedRoleUser and Credentials (AccessKeyId, AccessKeySecret, SecurityToken, Expiration as
 * {@code yyyy-MM-ddTHH:mm:ssZ}), or an error (RequestId, HostId, Code, Message, Recommend) with STS's HTTP status.
 * Each exchange hands out new keys. It records every request.
 *
 * <p>Its certificate is made with the JDK's keytool for 127.0.0.1. While it runs, the JVM's default trust store
 * (the {@code javax.net.ssl.trustStore} properties, which the library's HTTPS client reads) is the JDK's CA
 * certificates plus that one; {@link #close()} puts the properties back.
 */
public final class FakeAliyunSts implements AutoCloseable {
    /** One AssumeRoleWithOIDC request: its query and its form parameters. */
    public record Exchange(Map<String, String> query, Map<String, String> form) {
    }

    /** The keys one exchange handed out. */
    public record Issued(String accessKeyId, String accessKeySecret, String securityToken) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PASSWORD_ENV = "FAKE_STS_STORE_PASSWORD";
    private static final List<String> TRUST_PROPERTIES = List.of("javax.net.ssl.trustStore",
            "javax.net.ssl.trustStorePassword", "javax.net.ssl.trustStoreType");

    private final HttpsServer server;
    private final int port;
    private boolean closed;
    private final List<Exchange> exchanges = new CopyOnWriteArrayList<>();
    private final List<Issued> issued = new CopyOnWriteArrayList<>();
    private final AtomicInteger count = new AtomicInteger();
    private final Map<String, String> savedTrust = new LinkedHashMap<>();
    private volatile Duration validFor = Duration.ofHours(1);
    private volatile Refusal refusal;

    private record Refusal(int status, String code, String message) {
    }

    private FakeAliyunSts(Path dir) throws Exception {
        String password = UUID.randomUUID().toString();
        Path keyStore = dir.resolve("fake-sts.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        ProcessBuilder pb = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "sts", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keyStore.toString(),
                "-storepass:env", PASSWORD_ENV, "-keypass:env", PASSWORD_ENV)
                .redirectErrorStream(true);
        pb.environment().put(PASSWORD_ENV, password);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            keys.load(in, password.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password.toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);

        // the JDK's CA certificates plus this server's, as the JVM's default trust store while it runs
        Certificate certificate = keys.getCertificate("sts");
        KeyStore trust = KeyStore.getInstance(Path.of(System.getProperty("java.home"), "lib", "security", "cacerts").toFile(),
                (char[]) null);
        trust.setCertificateEntry("dify-dr-fake-sts", certificate);
        Path trustStore = dir.resolve("fake-sts-trust.p12");
        KeyStore trustCopy = KeyStore.getInstance("PKCS12");
        trustCopy.load(null, null);
        for (String alias : java.util.Collections.list(trust.aliases())) {
            if (trust.isCertificateEntry(alias)) {
                trustCopy.setCertificateEntry(alias, trust.getCertificate(alias));
            }
        }
        try (OutputStream out = Files.newOutputStream(trustStore)) {
            trustCopy.store(out, password.toCharArray());
        }
        for (String property : TRUST_PROPERTIES) {
            savedTrust.put(property, System.getProperty(property));
        }
        System.setProperty("javax.net.ssl.trustStore", trustStore.toString());
        System.setProperty("javax.net.ssl.trustStorePassword", password);
        System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");

        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-sts");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
        port = server.getAddress().getPort();
    }

    /** Starts it, keeping its key and trust stores in {@code dir}. */
    public static FakeAliyunSts start(Path dir) {
        try {
            return new FakeAliyunSts(dir);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the fake STS", e);
        }
    }

    /** STS's address as the credentials library takes it: {@code host:port}. */
    public String hostAndPort() {
        return "127.0.0.1:" + port;
    }

    public List<Exchange> exchanges() {
        return List.copyOf(exchanges);
    }

    public List<Issued> issued() {
        return List.copyOf(issued);
    }

    /** How long the keys handed out from now on are valid. */
    public void keysValidFor(Duration duration) {
        this.validFor = duration;
    }

    /** From now on every request is refused with this HTTP status, error code and message; null: answer again. */
    public void refuse(int status, String code, String message) {
        this.refusal = code == null ? null : new Refusal(status, code, message);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Map<String, String> query = form(exchange.getRequestURI().getRawQuery());
            Map<String, String> form = form(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchanges.add(new Exchange(query, form));
            String requestId = UUID.randomUUID().toString().toUpperCase();
            Refusal refused = refusal;
            if (!"POST".equals(exchange.getRequestMethod()) || !"AssumeRoleWithOIDC".equals(query.get("Action"))
                    || !"2015-04-01".equals(query.get("Version")) || !"JSON".equals(query.get("Format"))) {
                refused = new Refusal(400, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
            } else {
                for (String required : List.of("RoleArn", "OIDCProviderArn", "OIDCToken", "RoleSessionName")) {
                    if (form.get(required) == null || form.get(required).isEmpty()) {
                        refused = new Refusal(400, "MissingParameter", "The input parameter \"" + required + "\" that is mandatory for processing this request is not supplied.");
                    }
                }
            }
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("RequestId", requestId);
            int status;
            if (refused != null) {
                status = refused.status();
                answer.put("HostId", "sts.aliyuncs.com");
                answer.put("Code", refused.code());
                answer.put("Message", refused.message());
                answer.put("Recommend", "https://api.aliyun.com/troubleshoot?q=" + refused.code() + "&product=Sts");
            } else {
                status = 200;
                int n = count.incrementAndGet();
                Issued keys = new Issued("STS.fake" + n + UUID.randomUUID().toString().substring(0, 8),
                        "sts-secret-" + n + "-" + UUID.randomUUID(), "sts-session-token-" + n + "-" + UUID.randomUUID());
                issued.add(keys);
                answer.put("OIDCTokenInfo", Map.of("Subject", "system:serviceaccount:dify:dify-dr",
                        "Issuer", "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0ffee",
                        "ClientIds", "sts.aliyuncs.com"));
                answer.put("AssumedRoleUser", Map.of("AssumedRoleId", "3" + n + "1234567890:" + form.get("RoleSessionName"),
                        "Arn", form.get("RoleArn") + "/" + form.get("RoleSessionName")));
                answer.put("Credentials", Map.of("AccessKeyId", keys.accessKeyId(), "AccessKeySecret", keys.accessKeySecret(),
                        "SecurityToken", keys.securityToken(),
                        "Expiration", Instant.now().plus(validFor).truncatedTo(ChronoUnit.SECONDS).toString()));
            }
            byte[] body = JSON.writeValueAsBytes(answer);
            exchange.getResponseHeaders().set("Content-Type", "application/json;charset=utf-8");
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private static Map<String, String> form(String encoded) {
        Map<String, String> values = new LinkedHashMap<>();
        if (encoded == null || encoded.isEmpty()) {
            return values;
        }
        for (String pair : encoded.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            values.put(name, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return values;
    }

    /** Stops it (its port then refuses connections) and gives the trust store properties back; again: nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        savedTrust.forEach((property, value) -> {
            if (value == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, value);
            }
        });
    }
}
