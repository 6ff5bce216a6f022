package dev.difydr.testsupport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Deployment controller, ReplicaSet controller and kubelet that the mock API server lacks, reduced to what restore
 * tests observe. Every 50 ms, for each Deployment of the namespace:
 * <ul>
 *   <li>pods {@code <deployment>-<hash>-<i>} for {@code i < spec.replicas} exist, where {@code hash} is a hash of
 *       {@code spec.template}; pods of another hash or a higher index are deleted at once (Recreate, also for
 *       RollingUpdate Deployments);</li>
 *   <li>a new pod records the environment each of its containers and init containers would start with, resolved from
 *       the ConfigMaps and Secrets as they are at that moment, in annotation {@value #ENV_ANNOTATION}{@code <container>}
 *       (a JSON object). The environment never changes for the life of the pod;</li>
 *   <li>a pod whose required ConfigMap, Secret or key is missing stays Pending and not Ready until it appears; a pod
 *       created while {@link #failRollout} is on for its Deployment is Running but never Ready; other pods are Running
 *       and Ready at once;</li>
 *   <li>{@code status} is written through the status subresource when it changes, with zero counts left out as the
 *       API server does ({@code replicas: 0} reads back as null), and {@code observedGeneration} =
 *       {@code metadata.generation}. A Deployment with never-Ready pods and fewer Ready pods than wanted gets
 *       condition Progressing=False, reason ProgressDeadlineExceeded, about a second later.</li>
 * </ul>
 * Conflicts and vanished objects are left to the next round; no failure stops the thread.
 */
public final class FakeController implements AutoCloseable {
    public static final String DEPLOYMENT_LABEL = "fake-controller/deployment";
    public static final String HASH_LABEL = "pod-template-hash";
    public static final String ENV_ANNOTATION = "fake.difydr.dev/env.";
    static final String WAITING_ANNOTATION = "fake.difydr.dev/waiting";
    static final String NEVER_READY_ANNOTATION = "fake.difydr.dev/never-ready";

    private static final Logger LOG = LoggerFactory.getLogger(FakeController.class);
    private static final ObjectMapper SORTED = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    private static final long TICK_MILLIS = 50;
    private static final long PROGRESS_DEADLINE_MILLIS = 1000;

    private final KubernetesClient client;
    private final String namespace;
    private final Set<String> failing = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> stuckSince = new HashMap<>();
    private final Object lock = new Object();
    private final Thread thread;
    private volatile boolean paused;
    private volatile boolean closed;
    private Set<String> lastErrors = Set.of();
    private Set<String> errors = new HashSet<>();

    FakeController(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
        this.thread = new Thread(this::loop, "fake-controller");
        thread.setDaemon(true);
        thread.start();
    }

    /** While on, pods created for the Deployment never become Ready; turning it off does not heal those pods. */
    public void failRollout(String deployment, boolean on) {
        if (on) {
            failing.add(deployment);
        } else {
            failing.remove(deployment);
        }
    }

    /**
     * The environment a container of the Deployment started with, from the first Ready pod of the Deployment's current
     * template; null if there is no such pod (yet) or it has no container of that name.
     */
    public Map<String, String> podEnv(String deployment, String container) {
        Deployment d = client.apps().deployments().inNamespace(namespace).withName(deployment).get();
        if (d == null) {
            return null;
        }
        String hash = templateHash(d.getSpec().getTemplate());
        return pods(deployment).stream()
                .filter(p -> hash.equals(labels(p).get(HASH_LABEL)) && isReady(p))
                .min(Comparator.comparing(p -> p.getMetadata().getName()))
                .map(p -> annotations(p).get(ENV_ANNOTATION + container))
                .map(FakeController::parseEnv)
                .orElse(null);
    }

    /** Pods of the Deployment in phase Running, Ready or not. */
    public int runningPods(String deployment) {
        return (int) pods(deployment).stream()
                .filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
                .count();
    }

    /** Stops acting after the round in progress, if any, has finished. */
    public void pause() {
        synchronized (lock) {
            paused = true;
        }
    }

    public void resume() {
        paused = false;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
    }

    private void loop() {
        while (!closed) {
            try {
                Thread.sleep(TICK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (lock) {
                if (paused || closed) {
                    continue;
                }
                try {
                    reconcileAll();
                } catch (RuntimeException e) {
                    report("round failed", e);
                }
                lastErrors = errors;
                errors = new HashSet<>();
            }
        }
    }

    /** Logs a failure unless the previous round had the same one, so that a lasting fault is logged once. */
    private void report(String what, RuntimeException e) {
        String message = what + ": " + e;
        if (errors.add(message) && !lastErrors.contains(message) && !closed) {
            LOG.warn(message, e);
        }
    }

    private void reconcileAll() {
        List<Deployment> deployments = client.apps().deployments().inNamespace(namespace).list().getItems();
        Map<String, List<Pod>> podsByDeployment = client.pods().inNamespace(namespace).withLabel(DEPLOYMENT_LABEL).list()
                .getItems().stream()
                .collect(Collectors.groupingBy(p -> labels(p).get(DEPLOYMENT_LABEL)));
        for (Deployment d : deployments) {
            String name = d.getMetadata().getName();
            try {
                reconcile(d, podsByDeployment.getOrDefault(name, List.of()));
            } catch (KubernetesClientException e) {
                if (e.getCode() != 404 && e.getCode() != 409) {
                    report("deployment " + name, e);
                }
            } catch (RuntimeException e) {
                report("deployment " + name, e);
            }
        }
        Set<String> names = deployments.stream().map(d -> d.getMetadata().getName()).collect(Collectors.toSet());
        podsByDeployment.forEach((deployment, pods) -> {
            if (!names.contains(deployment)) {
                pods.forEach(this::delete);
                stuckSince.remove(deployment);
            }
        });
    }

    private void reconcile(Deployment d, List<Pod> candidates) {
        String name = d.getMetadata().getName();
        int desired = Objects.requireNonNullElse(d.getSpec().getReplicas(), 1);
        String hash = templateHash(d.getSpec().getTemplate());
        String prefix = name + "-" + hash + "-";
        Map<String, String> selector = d.getSpec().getSelector() == null ? Map.of()
                : Objects.requireNonNullElse(d.getSpec().getSelector().getMatchLabels(), Map.of());

        List<Pod> live = new ArrayList<>();
        for (Pod p : candidates) {
            if (!labels(p).entrySet().containsAll(selector.entrySet())) {
                continue;
            }
            int index = index(p.getMetadata().getName(), prefix);
            if (index < 0 || index >= desired) {
                delete(p);
            } else {
                live.add(annotations(p).containsKey(WAITING_ANNOTATION) ? retryStart(p) : p);
            }
        }
        Set<String> existing = live.stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
        for (int i = 0; i < desired; i++) {
            if (!existing.contains(prefix + i)) {
                live.add(create(d, hash, prefix + i));
            }
        }
        writeStatus(d, desired, live);
    }

    private static int index(String podName, String prefix) {
        if (!podName.startsWith(prefix)) {
            return -1;
        }
        try {
            return Integer.parseInt(podName.substring(prefix.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private Pod create(Deployment d, String hash, String podName) {
        PodTemplateSpec template = d.getSpec().getTemplate();
        Map<String, String> labels = new LinkedHashMap<>();
        Map<String, String> annotations = new LinkedHashMap<>();
        if (template.getMetadata() != null) {
            labels.putAll(Objects.requireNonNullElse(template.getMetadata().getLabels(), Map.of()));
            annotations.putAll(Objects.requireNonNullElse(template.getMetadata().getAnnotations(), Map.of()));
        }
        labels.put(HASH_LABEL, hash);
        labels.put(DEPLOYMENT_LABEL, d.getMetadata().getName());
        if (failing.contains(d.getMetadata().getName())) {
            annotations.put(NEVER_READY_ANNOTATION, "true");
        }
        Pod pod = new PodBuilder()
                .withNewMetadata().withName(podName).withNamespace(namespace).withLabels(labels).withAnnotations(annotations)
                .endMetadata()
                .withSpec(template.getSpec())
                .build();
        start(pod);
        return client.pods().inNamespace(namespace).resource(pod).create();
    }

    /** Resolves the containers' environment into the pod's annotations and sets its status accordingly. */
    private void start(Pod pod) {
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        annotations.remove(WAITING_ANNOTATION);
        String waiting = null;
        Sources sources = new Sources();
        List<Container> containers = Stream.concat(
                Objects.requireNonNullElse(pod.getSpec().getInitContainers(), List.<Container>of()).stream(),
                Objects.requireNonNullElse(pod.getSpec().getContainers(), List.<Container>of()).stream()).toList();
        for (Container c : containers) {
            Map<String, String> env = new LinkedHashMap<>();
            String missing = resolveEnv(c, pod, sources, env);
            if (missing != null) {
                waiting = "container " + c.getName() + ": " + missing;
                break;
            }
            annotations.put(ENV_ANNOTATION + c.getName(), toJson(env));
        }
        if (waiting != null) {
            annotations.keySet().removeIf(k -> k.startsWith(ENV_ANNOTATION));
            annotations.put(WAITING_ANNOTATION, waiting);
            pod.setStatus(status("Pending", false, "CreateContainerConfigError", waiting));
        } else {
            boolean ready = !annotations.containsKey(NEVER_READY_ANNOTATION);
            pod.setStatus(status("Running", ready, ready ? null : "ContainersNotReady", ready ? null : "readiness probe failed"));
        }
    }

    private Pod retryStart(Pod pod) {
        Pod copy = new PodBuilder(pod).build();
        start(copy);
        if (copy.getMetadata().getAnnotations().containsKey(WAITING_ANNOTATION)) {
            return pod;
        }
        return client.pods().inNamespace(namespace).resource(copy).update();
    }

    private static PodStatus status(String phase, boolean ready, String reason, String message) {
        return new PodStatusBuilder().withPhase(phase)
                .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").withReason(reason).withMessage(message)
                .endCondition()
                .addNewCondition().withType("ContainersReady").withStatus(ready ? "True" : "False").withReason(reason)
                .endCondition()
                .build();
    }

    /**
     * Fills {@code env} as the kubelet computes it: the {@code envFrom} sources in order, then the {@code env}
     * entries in order, a later name replacing an earlier one. Returns what is missing if the container could not start.
     */
    private String resolveEnv(Container c, Pod pod, Sources sources, Map<String, String> env) {
        for (EnvFromSource from : Objects.requireNonNullElse(c.getEnvFrom(), List.<EnvFromSource>of())) {
            String prefix = Objects.requireNonNullElse(from.getPrefix(), "");
            Map<String, String> values;
            boolean optional;
            String what;
            if (from.getConfigMapRef() != null) {
                values = sources.configMap(from.getConfigMapRef().getName());
                optional = Boolean.TRUE.equals(from.getConfigMapRef().getOptional());
                what = "ConfigMap " + from.getConfigMapRef().getName();
            } else if (from.getSecretRef() != null) {
                values = sources.secret(from.getSecretRef().getName());
                optional = Boolean.TRUE.equals(from.getSecretRef().getOptional());
                what = "Secret " + from.getSecretRef().getName();
            } else {
                continue;
            }
            if (values == null) {
                if (optional) {
                    continue;
                }
                return what + " not found";
            }
            values.forEach((k, v) -> env.put(prefix + k, v));
        }
        for (EnvVar e : Objects.requireNonNullElse(c.getEnv(), List.<EnvVar>of())) {
            EnvVarSource from = e.getValueFrom();
            if (from == null) {
                env.put(e.getName(), Objects.requireNonNullElse(e.getValue(), ""));
                continue;
            }
            String value;
            boolean optional;
            String what;
            if (from.getConfigMapKeyRef() != null) {
                Map<String, String> values = sources.configMap(from.getConfigMapKeyRef().getName());
                value = values == null ? null : values.get(from.getConfigMapKeyRef().getKey());
                optional = Boolean.TRUE.equals(from.getConfigMapKeyRef().getOptional());
                what = "key " + from.getConfigMapKeyRef().getKey() + " of ConfigMap " + from.getConfigMapKeyRef().getName();
            } else if (from.getSecretKeyRef() != null) {
                Map<String, String> values = sources.secret(from.getSecretKeyRef().getName());
                value = values == null ? null : values.get(from.getSecretKeyRef().getKey());
                optional = Boolean.TRUE.equals(from.getSecretKeyRef().getOptional());
                what = "key " + from.getSecretKeyRef().getKey() + " of Secret " + from.getSecretKeyRef().getName();
            } else if (from.getFieldRef() != null) {
                value = switch (from.getFieldRef().getFieldPath()) {
                    case "metadata.name" -> pod.getMetadata().getName();
                    case "metadata.namespace" -> namespace;
                    default -> "";
                };
                optional = false;
                what = "field " + from.getFieldRef().getFieldPath();
            } else {
                continue;
            }
            if (value == null) {
                if (optional) {
                    continue;
                }
                return what + " not found";
            }
            env.put(e.getName(), value);
        }
        return null;
    }

    /** ConfigMaps and Secrets read once per pod start, each as a map of values (null if absent). */
    private final class Sources {
        private final Map<String, Map<String, String>> configMaps = new HashMap<>();
        private final Map<String, Map<String, String>> secrets = new HashMap<>();

        Map<String, String> configMap(String name) {
            return configMaps.computeIfAbsent(name, n -> {
                ConfigMap cm = client.configMaps().inNamespace(namespace).withName(n).get();
                return cm == null ? null : new LinkedHashMap<>(Objects.requireNonNullElse(cm.getData(), Map.of()));
            });
        }

        Map<String, String> secret(String name) {
            return secrets.computeIfAbsent(name, n -> {
                Secret s = client.secrets().inNamespace(namespace).withName(n).get();
                if (s == null) {
                    return null;
                }
                Map<String, String> values = new LinkedHashMap<>();
                Objects.requireNonNullElse(s.getData(), Map.<String, String>of()).forEach((k, v) ->
                        values.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
                values.putAll(Objects.requireNonNullElse(s.getStringData(), Map.of()));
                return values;
            });
        }
    }

    private void writeStatus(Deployment d, int desired, List<Pod> pods) {
        String name = d.getMetadata().getName();
        int ready = (int) pods.stream().filter(FakeController::isReady).count();
        boolean neverReady = pods.stream().anyMatch(p -> annotations(p).containsKey(NEVER_READY_ANNOTATION));
        boolean stuck = false;
        if (neverReady && ready < desired) {
            long since = stuckSince.computeIfAbsent(name, n -> System.currentTimeMillis());
            stuck = System.currentTimeMillis() - since >= PROGRESS_DEADLINE_MILLIS;
        } else {
            stuckSince.remove(name);
        }
        List<DeploymentCondition> conditions = List.of(
                new DeploymentConditionBuilder().withType("Available").withStatus(ready >= desired ? "True" : "False")
                        .withReason(ready >= desired ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable").build(),
                stuck
                        ? new DeploymentConditionBuilder().withType("Progressing").withStatus("False")
                                .withReason("ProgressDeadlineExceeded")
                                .withMessage("ReplicaSet \"" + name + "\" has timed out progressing.").build()
                        : new DeploymentConditionBuilder().withType("Progressing").withStatus("True")
                                .withReason(ready >= desired ? "NewReplicaSetAvailable" : "ReplicaSetUpdated").build());
        DeploymentStatus status = new DeploymentStatusBuilder()
                .withObservedGeneration(d.getMetadata().getGeneration())
                .withReplicas(omitZero(pods.size()))
                .withUpdatedReplicas(omitZero(pods.size()))
                .withReadyReplicas(omitZero(ready))
                .withAvailableReplicas(omitZero(ready))
                .withUnavailableReplicas(omitZero(Math.max(0, desired - ready)))
                .withConditions(conditions)
                .build();
        if (!status.equals(d.getStatus())) {
            client.apps().deployments().inNamespace(namespace).resource(new DeploymentBuilder(d).withStatus(status).build())
                    .updateStatus();
        }
    }

    private static Integer omitZero(int n) {
        return n == 0 ? null : n;
    }

    private void delete(Pod p) {
        client.pods().inNamespace(namespace).withName(p.getMetadata().getName()).delete();
    }

    private List<Pod> pods(String deployment) {
        return client.pods().inNamespace(namespace).withLabel(DEPLOYMENT_LABEL, deployment).list().getItems();
    }

    private static Map<String, String> labels(Pod p) {
        return Objects.requireNonNullElse(p.getMetadata().getLabels(), Map.of());
    }

    private static Map<String, String> annotations(Pod p) {
        return Objects.requireNonNullElse(p.getMetadata().getAnnotations(), Map.of());
    }

    static boolean isReady(Pod p) {
        return p.getStatus() != null && Objects.requireNonNullElse(p.getStatus().getConditions(), List.<PodCondition>of()).stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** A short hash of the template that does not depend on the order of map keys. */
    static String templateHash(PodTemplateSpec template) {
        try {
            Map<String, Object> tree = SORTED.readValue(io.fabric8.kubernetes.client.utils.Serialization.asJson(template),
                    new TypeReference<>() { });
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(SORTED.writeValueAsBytes(tree));
            return HexFormat.of().formatHex(digest, 0, 5);
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String toJson(Map<String, String> env) {
        try {
            return SORTED.writeValueAsString(env);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> parseEnv(String json) {
        try {
            return SORTED.readValue(json, new TypeReference<LinkedHashMap<String, String>>() { });
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
