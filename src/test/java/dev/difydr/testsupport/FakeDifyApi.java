package dev.difydr.testsupport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * Dify's API and plugin daemon as far as a restore checks them, each on its own port on 127.0.0.1. Every answer comes
 * from the database that the running pod of the given Deployment was started against (its {@code DB_HOST},
 * {@code DB_PORT}, {@code DB_DATABASE} as recorded by the {@link FakeController}), looked up in {@code servers} by
 * {@code host:port} and queried with that server's superuser. Without a Ready pod of the current template, every
 * endpoint answers 503.
 *
 * <p>API: {@code GET /health}, {@code GET /console/api/ping}, {@code GET /console/api/setup} (finished when
 * {@code dify_setups} has a row, not_started when it is empty, 500 when the server, database or table is missing),
 * {@code GET /v1/info} (needs {@code Authorization: Bearer <appKey>}). Plugin daemon: {@code GET /health/check}, 200
 * when its database exists.
 */
public final class FakeDifyApi implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubeCluster cluster;
    private final String apiDeployment;
    private final String apiContainer;
    private final String pluginDeployment;
    private final String pluginContainer;
    private final Map<String, PostgresServer> servers;
    private final ExecutorService executor;
    private final HttpServer api;
    private final HttpServer pluginDaemon;
    private volatile String appKey;

    private FakeDifyApi(KubeCluster cluster, String apiDeployment, String apiContainer, String pluginDeployment,
            String pluginContainer, Map<String, PostgresServer> servers) throws IOException {
        this.cluster = cluster;
        this.apiDeployment = apiDeployment;
        this.apiContainer = apiContainer;
        this.pluginDeployment = pluginDeployment;
        this.pluginContainer = pluginContainer;
        this.servers = Map.copyOf(servers);
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-dify-api");
            t.setDaemon(true);
            return t;
        });
        this.api = listen(this::api);
        this.pluginDaemon = listen(this::pluginDaemon);
    }

    /**
     * @param servers PostgreSQL servers by {@code host:port} as Dify's environment names them, e.g.
     *                {@code pg.example.internal:5432}
     */
    public static FakeDifyApi start(KubeCluster cluster, String apiDeployment, String apiContainer, String pluginDeployment,
            String pluginContainer, Map<String, PostgresServer> servers) {
        try {
            return new FakeDifyApi(cluster, apiDeployment, apiContainer, pluginDeployment, pluginContainer, servers);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The key {@code /v1/info} accepts; none by default, so it answers 401. */
    public FakeDifyApi appKey(String key) {
        this.appKey = key;
        return this;
    }

    public String apiUrl() {
        return url(api);
    }

    public String pluginDaemonUrl() {
        return url(pluginDaemon);
    }

    @Override
    public void close() {
        api.stop(0);
        pluginDaemon.stop(0);
        executor.shutdownNow();
    }

    private record Reply(int code, Map<String, ?> body) {
    }

    private HttpServer listen(Function<HttpExchange, Reply> handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            Reply reply;
            try {
                reply = handler.apply(exchange);
            } catch (RuntimeException e) {
                reply = new Reply(500, Map.of("message", String.valueOf(e)));
            }
            byte[] body = json(reply.body()).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(reply.code(), body.length);
            try (var out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return server;
    }

    private static String url(HttpServer server) {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private Reply api(HttpExchange exchange) {
        Map<String, String> env = cluster.controller().podEnv(apiDeployment, apiContainer);
        if (env == null) {
            return new Reply(503, Map.of("message", "no ready pod of " + apiDeployment));
        }
        if (!"GET".equals(exchange.getRequestMethod())) {
            return new Reply(405, Map.of("message", "method not allowed"));
        }
        return switch (exchange.getRequestURI().getPath()) {
            case "/health" -> new Reply(200, Map.of("status", "ok", "version", "1.10.1"));
            case "/console/api/ping" -> new Reply(200, Map.of("result", "pong"));
            case "/console/api/setup" -> setup(env);
            case "/v1/info" -> {
                String key = appKey;
                String auth = exchange.getRequestHeaders().getFirst("Authorization");
                yield key != null && ("Bearer " + key).equals(auth)
                        ? new Reply(200, Map.of("name", "app", "description", "", "tags", List.of()))
                        : new Reply(401, Map.of("code", "unauthorized", "message", "Invalid Authorization header"));
            }
            default -> new Reply(404, Map.of("message", "not found"));
        };
    }

    private Reply setup(Map<String, String> env) {
        try (Connection c = connect(env); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM dify_setups")) {
            rs.next();
            return rs.getLong(1) > 0
                    ? new Reply(200, Map.of("step", "finished", "setup_at", "2024-01-01T00:00:00"))
                    : new Reply(200, Map.of("step", "not_started"));
        } catch (SQLException | IllegalStateException e) {
            return new Reply(500, Map.of("message", String.valueOf(e.getMessage())));
        }
    }

    private Reply pluginDaemon(HttpExchange exchange) {
        if (!"/health/check".equals(exchange.getRequestURI().getPath())) {
            return new Reply(404, Map.of("code", -404, "message", "not found"));
        }
        Map<String, String> env = cluster.controller().podEnv(pluginDeployment, pluginContainer);
        if (env == null) {
            return new Reply(503, Map.of("code", -503, "message", "no ready pod of " + pluginDeployment));
        }
        try (Connection c = connect(env)) {
            if (!c.isValid(5)) {
                return new Reply(503, Map.of("code", -503, "message", "database connection not valid"));
            }
            return new Reply(200, Map.of("code", 0, "message", "success", "data", "ok"));
        } catch (SQLException | IllegalStateException e) {
            return new Reply(503, Map.of("code", -503, "message", String.valueOf(e.getMessage())));
        }
    }

    /** Connects to the database the environment names, as the superuser of the server it maps to. */
    private Connection connect(Map<String, String> env) throws SQLException {
        String address = env.get("DB_HOST") + ":" + env.get("DB_PORT");
        PostgresServer server = servers.get(address);
        if (server == null) {
            throw new IllegalStateException("no database server at " + address);
        }
        String url = "jdbc:postgresql://" + server.host() + ":" + server.port() + "/" + env.get("DB_DATABASE")
                + "?connectTimeout=5&socketTimeout=10";
        return DriverManager.getConnection(url, server.user(), server.password());
    }

    private static String json(Map<String, ?> body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
