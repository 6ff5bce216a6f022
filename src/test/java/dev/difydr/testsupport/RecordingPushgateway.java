package dev.difydr.testsupport;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * An HTTP server standing in for a Prometheus Pushgateway: records each push and answers with a chosen status. It
 * refuses what the real one refuses (prometheus/pushgateway, handler/push.go and its README): a path that is not
 * {@code /metrics/job/<job>{/<label>/<value>}} (404), a method other than PUT, POST or DELETE (405), a body that is not
 * the text exposition format, and a pushed sample whose label contradicts the grouping key (400). Refused pushes are not
 * recorded. It keeps what it was pushed as the real one does, by group (the grouping key): PUT replaces the group,
 * POST replaces only the metric families (by their {@code # TYPE} name) that the push carries, DELETE drops the group;
 * {@link #exposition()} is what a scrape of it would read.
 */
public final class RecordingPushgateway implements AutoCloseable {
    /** One push: method, grouping key (from the path), content type and body (un-gzipped). */
    public record Push(String method, String path, Map<String, String> grouping, String contentType, String body) {
    }

    private final HttpServer server;
    private final List<Push> pushes = new CopyOnWriteArrayList<>();
    /** group (grouping key) to metric family name to its sample lines */
    private final Map<Map<String, String>, Map<String, List<String>>> groups = new LinkedHashMap<>();
    private volatile int status = 200;

    private RecordingPushgateway() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            if ("gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
                raw = new GZIPInputStream(new ByteArrayInputStream(raw)).readAllBytes();
            }
            String path = exchange.getRequestURI().getRawPath();
            String method = exchange.getRequestMethod();
            String body = new String(raw, StandardCharsets.UTF_8);
            int refused = !path.matches("/metrics/job/[^/]+(/[^/]+/[^/]+)*") ? 404
                    : !List.of("PUT", "POST", "DELETE").contains(method) ? 405
                    : refusal(grouping(path), body) != null ? 400 : 0;
            if (refused == 0) {
                pushes.add(new Push(method, path, grouping(path), exchange.getRequestHeaders().getFirst("Content-Type"), body));
                if (status / 100 == 2) {
                    store(method, grouping(path), body);
                }
            }
            exchange.sendResponseHeaders(refused != 0 ? refused : status, -1);
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

    private synchronized void store(String method, Map<String, String> group, String body) {
        if (method.equals("DELETE")) {
            groups.remove(group);
            return;
        }
        Map<String, List<String>> families = new LinkedHashMap<>();
        String family = null;
        for (String line : body.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                family = line.split(" ")[2];
                families.computeIfAbsent(family, f -> new ArrayList<>());
            } else if (!line.isBlank() && !line.startsWith("#")) {
                String name = line.split("[{ ]", 2)[0];
                families.computeIfAbsent(family != null ? family : name, f -> new ArrayList<>()).add(line);
            }
        }
        if (method.equals("PUT")) {
            groups.put(group, families);
        } else {
            groups.computeIfAbsent(group, g -> new LinkedHashMap<>()).putAll(families);
        }
    }

    /** The sample lines of every group the gateway holds, as a scrape of it reads them (less the grouping labels). */
    public synchronized String exposition() {
        StringBuilder out = new StringBuilder();
        groups.values().forEach(families -> families.values().forEach(lines -> lines.forEach(line -> out.append(line).append('\n'))));
        return out.toString();
    }

    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)( \\d+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    /** Why the real Pushgateway would refuse this body for this grouping key, or null. */
    static String refusal(Map<String, String> grouping, String body) {
        for (String line : body.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                return "not the text format: " + line;
            }
            try {
                Double.parseDouble(m.group(4).replace("Inf", "Infinity"));
            } catch (NumberFormatException e) {
                return "not a sample value: " + line;
            }
            if (m.group(3) != null) {
                Matcher label = LABEL.matcher(m.group(3));
                while (label.lookingAt()) {
                    String grouped = grouping.get(label.group(1));
                    if (grouped != null && !grouped.equals(label.group(2))) {
                        return "label " + label.group(1) + "=\"" + label.group(2) + "\" contradicts the grouping key's " + grouped;
                    }
                    label.region(label.end(), label.regionEnd());
                }
                if (label.regionStart() != m.group(3).length()) {
                    return "labels not in the text format: " + line;
                }
            }
        }
        return null;
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
