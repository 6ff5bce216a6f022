package dev.difydr.testsupport;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A Kubernetes API for tests: the fabric8 mock server in CRUD mode on plain HTTP at {@code 127.0.0.1} (random port),
 * so that a CLI in another process can reach it by URL, storing and patching objects as kube-apiserver does
 * ({@link ApiServerDispatcher}), with namespace {@code dify} and a {@link FakeController} acting as the Deployment
 * controller and kubelet.
 */
public final class KubeCluster implements AutoCloseable {
    public static final String NAMESPACE = "dify";

    /** Held so that the level set here is not lost when the logger is collected; the mock logs every request at INFO. */
    private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver.MockWebServer");

    private final KubernetesMockServer server;
    private final String url;
    private final KubernetesClient client;
    private final FakeController controller;

    private final ApiServerDispatcher dispatcher;

    private KubeCluster(KubernetesMockServer server, ApiServerDispatcher dispatcher, String url) {
        this.server = server;
        this.dispatcher = dispatcher;
        this.url = url;
        this.client = newClient(url, ApiServerDispatcher.ADMIN_TOKEN);
        this.controller = new FakeController(newClient(url, ApiServerDispatcher.ADMIN_TOKEN), NAMESPACE);
    }

    public static KubeCluster start() {
        MOCK_LOG.setLevel(Level.WARNING);
        ApiServerDispatcher dispatcher = new ApiServerDispatcher();
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        server.init(loopback, 0);
        KubeCluster cluster = new KubeCluster(server, dispatcher, "http://" + loopback.getHostAddress() + ":" + server.getPort());
        cluster.client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
                .create();
        return cluster;
    }

    /** A client with {@code token}: the test's own clients carry the token that no Role restricts. */
    private static KubernetesClient newClient(String url, String token) {
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(url)
                .withOauthToken(token)
                .withNamespace(NAMESPACE)
                .withHttp2Disable(true)
                .build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** A client of this cluster whose default namespace is {@value #NAMESPACE}. */
    public KubernetesClient client() {
        return client;
    }

    /** The API server's URL, for {@code KUBERNETES_MASTER} or {@code -Dkubernetes.master}. */
    public String url() {
        return url;
    }

    public String namespace() {
        return NAMESPACE;
    }

    /**
     * From now on, refuses with 403 the writes (create, update, patch) for which {@code which} holds, given the HTTP
     * method, the path, the content type and the body; {@code null} refuses nothing again.
     */
    public void refuseWrites(Refusal which) {
        dispatcher.refuse(which == null ? r -> false : r -> which.refuses(r.getMethod(), r.getPath(),
                java.util.Objects.toString(r.getHeader("Content-Type"), ""), new String(r.getBody().getBytes(), StandardCharsets.UTF_8)));
    }

    /** From now on, access reviews answer that this permission ("patch configmaps", "create pods/exec") is missing. */
    public void deny(String verbAndResource) {
        dispatcher.deny(verbAndResource);
    }

    /**
     * From now on, every caller but this class's own clients (so dify-dr, in or out of this JVM) is held to
     * {@code roles}, as if they were bound to its ServiceAccount (each in its own namespace, nothing cluster-wide), and
     * its requests are recorded; null lifts it.
     */
    public void enforce(List<Role> roles) {
        dispatcher.enforce(roles);
    }

    /** Each request of a caller held to the Roles, as "METHOD path -> checks" with "REFUSED" for a refused one. */
    public List<String> calls() {
        return dispatcher.calls().stream().map(c -> c.method() + " " + c.path() + " -> "
                + (c.request() == null ? "no rule needed" : String.join(", ", c.request().checks())) + (c.allowed() ? "" : " REFUSED")).toList();
    }

    /** The checks ("verb resource[.group]") of the calls held to the Roles, each once, allowed or not. */
    public java.util.Set<String> checks() {
        return dispatcher.calls().stream().filter(c -> c.request() != null).flatMap(c -> c.request().checks().stream())
                .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    }

    /** The calls the Roles refused. */
    public List<String> refused() {
        return calls().stream().filter(c -> c.endsWith(" REFUSED")).toList();
    }

    @FunctionalInterface
    public interface Refusal {
        boolean refuses(String method, String path, String contentType, String body);
    }

    public FakeController controller() {
        return controller;
    }

    /** Creates every object of a multi-document YAML stream on the classpath in the namespace (stored normalised). */
    public void load(String classpathResource) {
        try (InputStream in = KubeCluster.class.getResourceAsStream(classpathResource)) {
            if (in == null) {
                throw new IllegalArgumentException("no such resource on the classpath: " + classpathResource);
            }
            client.load(in).inNamespace(NAMESPACE).resources()
                    .filter(r -> r.item() != null)
                    .forEach(r -> r.create());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates or replaces an Opaque Secret; the server stores the values in {@code data}, as Kubernetes does. */
    public void secret(String name, Map<String, String> stringData) {
        Secret secret = new SecretBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
                .withType("Opaque").withStringData(stringData).build();
        client.secrets().inNamespace(NAMESPACE).resource(secret).createOr(NonDeletingOperation::update);
    }

    /**
     * Every key the douban chart's pods read from Secret {@code dify-credentials} (pods without all of them never
     * start): the given database password, made-up values for the rest.
     */
    public static Map<String, String> doubanCredentials(String dbPassword) {
        return Map.of("DB_PASSWORD", dbPassword, "REDIS_PASSWORD", "example-redis-password",
                "CELERY_BROKER_URL", "redis://:example-redis-password@redis.example.internal:6379/1",
                "SECRET_KEY", "example-secret-key", "WEAVIATE_API_KEY", "example-weaviate-key");
    }

    @Override
    public void close() {
        try {
            controller.close();
        } finally {
            client.close();
            server.destroy();
        }
    }
}
