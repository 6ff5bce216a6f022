package dev.difydr.testsupport;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Makes S3Proxy answer like OSS, for the OSS SDK: forwards every request to S3Proxy and removes the S3 XML namespace
 * from XML responses, which the OSS SDK's parsers do not expect (list, multipart and error responses otherwise fail to
 * parse). S3Proxy cannot verify OSS signatures, so the proxy drops the Authorization header and S3Proxy must run
 * without authorization; a test that needs OSS to refuse the credentials says so with {@link #refuseEveryRequest}.
 * It also records the STS tokens the client sent.
 */
public final class NamespaceStrippingProxy implements AutoCloseable {
    private static final String S3_NAMESPACE = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
    /** Headers the JDK client sets itself (or refuses), plus the signature S3Proxy cannot check. */
    private static final Set<String> NOT_FORWARDED = Set.of("host", "connection", "content-length", "expect", "upgrade",
            "date", "via", "warning", "transfer-encoding", "authorization");
    private static final Set<String> NOT_RETURNED = Set.of("content-length", "transfer-encoding", "connection", "date");

    private final URI target;
    private final HttpServer server;
    private final ExecutorService threads;
    private final HttpClient client;
    private final List<String> securityTokens = new CopyOnWriteArrayList<>();
    private volatile String refusalCode;

    private NamespaceStrippingProxy(URI target) throws IOException {
        this.target = target;
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "oss-test-proxy");
            t.setDaemon(true);
            return t;
        });
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    /** A proxy on 127.0.0.1 (random port) in front of {@code target}. */
    public static NamespaceStrippingProxy start(URI target) {
        try {
            return new NamespaceStrippingProxy(target);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Every {@code x-oss-security-token} header seen, in order. */
    public List<String> securityTokensSeen() {
        return List.copyOf(securityTokens);
    }

    /**
     * From now on answers every request with HTTP 403 and the OSS error {@code code}, echoing the signed headers
     * (security token included) in StringToSign as OSS does for SignatureDoesNotMatch; null forwards again.
     */
    public void refuseEveryRequest(String code) {
        refusalCode = code;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String token = exchange.getRequestHeaders().getFirst("x-oss-security-token");
            if (token != null) {
                securityTokens.add(token);
            }
            byte[] requestBody = exchange.getRequestBody().readAllBytes();
            String code = refusalCode;
            if (code != null) {
                refuse(exchange, code, token);
                return;
            }
            forward(exchange, requestBody);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void forward(HttpExchange exchange, byte[] requestBody) throws IOException, InterruptedException {
        URI in = exchange.getRequestURI();
        URI out = URI.create(target.toString().replaceAll("/+$", "") + in.getRawPath()
                + (in.getRawQuery() == null ? "" : "?" + in.getRawQuery()));
        String method = exchange.getRequestMethod();
        boolean bodyless = requestBody.length == 0 && !method.equals("PUT") && !method.equals("POST");
        HttpRequest.Builder request = HttpRequest.newBuilder(out).timeout(Duration.ofSeconds(60))
                .method(method, bodyless ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(requestBody));
        exchange.getRequestHeaders().forEach((name, values) -> {
            if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
                values.forEach(v -> request.header(name, v));
            }
        });
        HttpResponse<byte[]> response = client.send(request.build(), BodyHandlers.ofByteArray());

        byte[] body = response.body();
        String type = response.headers().firstValue("content-type").orElse("");
        if (type.contains("xml")) {
            body = new String(body, UTF_8).replace(S3_NAMESPACE, "").getBytes(UTF_8);
        }
        response.headers().map().forEach((name, values) -> {
            if (!NOT_RETURNED.contains(name.toLowerCase(Locale.ROOT))) {
                exchange.getResponseHeaders().put(name, values);
            }
        });
        if (method.equals("HEAD")) {
            // A HEAD answer has no body, but its Content-Length is the object's size, which the client reads.
            response.headers().firstValue("content-length").ifPresent(l -> exchange.getResponseHeaders().set("Content-Length", l));
            exchange.sendResponseHeaders(response.statusCode(), -1);
            return;
        }
        exchange.sendResponseHeaders(response.statusCode(), body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            exchange.getResponseBody().write(body);
        }
    }

    private static void refuse(HttpExchange exchange, String code, String token) throws IOException {
        String requestId = UUID.randomUUID().toString().replace("-", "").toUpperCase(Locale.ROOT);
        byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>" + code + "</Code>\n"
                + "  <Message>The request was refused by the test (" + code + ").</Message>\n"
                + "  <RequestId>" + requestId + "</RequestId>\n  <HostId>127.0.0.1</HostId>\n"
                + "  <StringToSign>" + exchange.getRequestMethod() + "\n\n\n"
                + exchange.getRequestHeaders().getFirst("Date") + "\n"
                + (token == null ? "" : "x-oss-security-token:" + token + "\n") + exchange.getRequestURI().getRawPath()
                + "</StringToSign>\n  <SignatureProvided>" + exchange.getRequestHeaders().getFirst("Authorization")
                + "</SignatureProvided>\n</Error>\n").getBytes(UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/xml");
        exchange.getResponseHeaders().set("x-oss-request-id", requestId);
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(403, -1);
            return;
        }
        exchange.sendResponseHeaders(403, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
