package dev.difydr.testsupport;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

/** An HTTP server standing in for a Prometheus Pushgateway: records each push and answers with a chosen status. */
public final class RecordingPushgateway implements AutoCloseable {
    /** One push: method, grouping key (from the path), content type and body (un-gzipped). */
    public record Push(String method, String path, Map<String, String> grouping, String contentType, String body) {
    }

    private final HttpServer server;
    private final List<Push> pushes = new CopyOnWriteArrayList<>();
    private volatile int status = 200;

    private RecordingPushgateway() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            if ("gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
                raw = new GZIPInputStream(new ByteArrayInputStream(raw)).readAllBytes();
            }
            String path = exchange.getRequestURI().getRawPath();
            pushes.add(new Push(exchange.getRequestMethod(), path, grouping(path), exchange.getRequestHeaders().getFirst("Content-Type"),
                    new String(raw, StandardCharsets.UTF_8)));
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    public static RecordingPushgateway start() {
        try {
            return new RecordingPushgateway();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public void answer(int status) {
        this.status = status;
    }

    public List<Push> pushes() {
        return List.copyOf(pushes);
    }

    /** {@code /metrics/job/<job>{/<label>/<value>}} as a map. */
    private static Map<String, String> grouping(String path) {
        Map<String, String> out = new HashMap<>();
        if (path.startsWith("/metrics/")) {
            String[] parts = path.substring("/metrics/".length()).split("/");
            for (int i = 0; i + 1 < parts.length; i += 2) {
                out.put(parts[i], URLDecoder.decode(parts[i + 1], StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
