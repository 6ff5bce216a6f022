package dev.difydr.kube;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.repository.Json;
import dev.difydr.repository.KubernetesFacts;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Dify's own configuration as its Deployments read it: every ConfigMap and Secret they reference (env
 * {@code valueFrom}, {@code envFrom}, {@code configMap}, {@code secret} and projected volumes, image pull Secrets) and
 * each container's {@code env} and {@code envFrom}. Objects keep only their name, labels, annotations and content,
 * so that they can be created again anywhere; the namespace is where they were read. This document holds secret
 * values: it is stored only encrypted, and its text ({@link #toString}) and {@link #facts()} give names and keys only.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ConfigSnapshot(int formatVersion, String namespace, List<ConfigMap> configMaps, List<Secret> secrets,
                             List<ContainerEnv> containers, List<KubernetesFacts.Missing> missing) {
    public static final int FORMAT_VERSION = 1;
    public static final String CONFIG_MAP = "ConfigMap";
    public static final String SECRET = "Secret";

    public ConfigSnapshot {
        configMaps = configMaps == null ? List.of() : List.copyOf(configMaps);
        secrets = secrets == null ? List.of() : List.copyOf(secrets);
        containers = containers == null ? List.of() : List.copyOf(containers);
        missing = missing == null ? List.of() : List.copyOf(missing);
    }

    /** One container of a Dify Deployment: its environment as the pod spec declares it. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record ContainerEnv(String deployment, String container, boolean init, List<EnvVar> env, List<EnvFromSource> envFrom) {
        public ContainerEnv {
            env = env == null ? List.of() : List.copyOf(env);
            envFrom = envFrom == null ? List.of() : List.copyOf(envFrom);
        }

        @Override
        public String toString() {
            return "Deployment/" + deployment + " container " + container;
        }
    }

    /**
     * Reads the configuration of the Deployments {@link WorkloadDiscovery} finds for {@code config}. A referenced
     * object that does not exist is listed in {@link #missing}; a failure to read one fails (KUBERNETES).
     */
    public static ConfigSnapshot collect(KubernetesClient client, KubernetesConfig config) {
        String namespace = config.namespace();
        List<Workload> workloads = new WorkloadDiscovery(client, config, List.of(DatabaseEnv.DATABASE)).discover();
        References configMapRefs = new References();
        References secretRefs = new References();
        List<ContainerEnv> containers = new ArrayList<>();
        for (Workload w : workloads.stream().sorted(Comparator.comparing(Workload::name)).toList()) {
            Deployment d = Deployments.require(client, namespace, w.name());
            String name = d.getMetadata().getName();
            PodSpec pod = d.getSpec().getTemplate().getSpec();
            for (boolean init : new boolean[] {true, false}) {
                for (Container c : orEmpty(init ? pod.getInitContainers() : pod.getContainers())) {
                    containers.add(new ContainerEnv(name, c.getName(), init, c.getEnv(), c.getEnvFrom()));
                    for (EnvVar e : orEmpty(c.getEnv())) {
                        if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
                            configMapRefs.add(e.getValueFrom().getConfigMapKeyRef().getName(), e.getValueFrom().getConfigMapKeyRef().getOptional(), name);
                        } else if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                            secretRefs.add(e.getValueFrom().getSecretKeyRef().getName(), e.getValueFrom().getSecretKeyRef().getOptional(), name);
                        }
                    }
                    for (EnvFromSource f : orEmpty(c.getEnvFrom())) {
                        if (f.getConfigMapRef() != null) {
                            configMapRefs.add(f.getConfigMapRef().getName(), f.getConfigMapRef().getOptional(), name);
                        } else if (f.getSecretRef() != null) {
                            secretRefs.add(f.getSecretRef().getName(), f.getSecretRef().getOptional(), name);
                        }
                    }
                }
            }
            for (Volume v : orEmpty(pod.getVolumes())) {
                if (v.getConfigMap() != null) {
                    configMapRefs.add(v.getConfigMap().getName(), v.getConfigMap().getOptional(), name);
                } else if (v.getSecret() != null) {
                    secretRefs.add(v.getSecret().getSecretName(), v.getSecret().getOptional(), name);
                } else if (v.getProjected() != null) {
                    for (VolumeProjection p : orEmpty(v.getProjected().getSources())) {
                        if (p.getConfigMap() != null) {
                            configMapRefs.add(p.getConfigMap().getName(), p.getConfigMap().getOptional(), name);
                        } else if (p.getSecret() != null) {
                            secretRefs.add(p.getSecret().getName(), p.getSecret().getOptional(), name);
                        }
                    }
                }
            }
            orEmpty(pod.getImagePullSecrets()).forEach(r -> secretRefs.add(r.getName(), false, name));
        }
        List<KubernetesFacts.Missing> missing = new ArrayList<>();
        List<ConfigMap> configMaps = new ArrayList<>();
        for (String n : configMapRefs.names()) {
            ConfigMap cm = read(() -> client.configMaps().inNamespace(namespace).withName(n).get(), CONFIG_MAP, n, namespace);
            if (cm == null) {
                missing.add(configMapRefs.missing(CONFIG_MAP, n));
            } else {
                configMaps.add(new ConfigMapBuilder().withMetadata(portable(cm.getMetadata())).withData(cm.getData())
                        .withBinaryData(cm.getBinaryData()).withImmutable(cm.getImmutable()).build());
            }
        }
        List<Secret> secrets = new ArrayList<>();
        for (String n : secretRefs.names()) {
            Secret s = read(() -> client.secrets().inNamespace(namespace).withName(n).get(), SECRET, n, namespace);
            if (s == null) {
                missing.add(secretRefs.missing(SECRET, n));
            } else {
                Map<String, String> data = new TreeMap<>(s.getData() == null ? Map.of() : s.getData());
                // A server never returns stringData; should one come back, it is content all the same.
                if (s.getStringData() != null) {
                    s.getStringData().forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
                }
                secrets.add(new SecretBuilder().withMetadata(portable(s.getMetadata())).withType(s.getType()).withData(data)
                        .withImmutable(s.getImmutable()).build());
            }
        }
        return new ConfigSnapshot(FORMAT_VERSION, namespace, configMaps, secrets, containers, missing);
    }

    /** Name, labels and annotations: what the server sets (uid, resourceVersion, managedFields, owners…) stays behind. */
    private static ObjectMeta portable(ObjectMeta m) {
        return new ObjectMetaBuilder().withName(m.getName())
                .withLabels(m.getLabels() == null || m.getLabels().isEmpty() ? null : m.getLabels())
                .withAnnotations(m.getAnnotations() == null || m.getAnnotations().isEmpty() ? null : m.getAnnotations()).build();
    }

    private static <T> T read(java.util.function.Supplier<T> get, String kind, String name, String namespace) {
        try {
            return get.get();
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed("read " + kind + " " + name, namespace, e);
        }
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }

    /** Who references each object, and whether every reference is optional. */
    private static final class References {
        private final Map<String, Boolean> optional = new TreeMap<>();
        private final Map<String, Set<String>> by = new HashMap<>();

        void add(String name, Boolean isOptional, String deployment) {
            if (name == null || name.isEmpty()) {
                return;
            }
            optional.merge(name, Boolean.TRUE.equals(isOptional), Boolean::logicalAnd);
            by.computeIfAbsent(name, n -> new TreeSet<>()).add(deployment);
        }

        Set<String> names() {
            return optional.keySet();
        }

        KubernetesFacts.Missing missing(String kind, String name) {
            return new KubernetesFacts.Missing(kind, name, optional.get(name), List.copyOf(by.get(name)));
        }
    }

    /** Names and keys, never values: for the manifest and {@code show}. */
    public KubernetesFacts facts() {
        return new KubernetesFacts(namespace,
                configMaps.stream().map(cm -> new KubernetesFacts.ObjectKeys(cm.getMetadata().getName(), keys(cm))).toList(),
                secrets.stream().map(s -> new KubernetesFacts.ObjectKeys(s.getMetadata().getName(), keys(s))).toList(),
                containers.stream().filter(c -> !c.env().isEmpty()).map(c -> new KubernetesFacts.ContainerEnv(c.deployment(), c.container(),
                        c.env().stream().map(EnvVar::getName).distinct().toList())).toList(),
                missing);
    }

    public static List<String> keys(ConfigMap cm) {
        Set<String> keys = new TreeSet<>(orEmpty(cm.getData()).keySet());
        keys.addAll(orEmpty(cm.getBinaryData()).keySet());
        return List.copyOf(keys);
    }

    public static List<String> keys(Secret s) {
        return List.copyOf(new TreeSet<>(orEmpty(s.getData()).keySet()));
    }

    private static Map<String, String> orEmpty(Map<String, String> map) {
        return map == null ? Map.of() : map;
    }

    /**
     * Each container's environment as it would see it at start, by {@code deployment/container}: {@code envFrom}
     * sources in order (the last one holding a key wins), then {@code env} entries in order (an entry wins over
     * {@code envFrom}; one whose ConfigMap or Secret key is missing leaves the variable as it was; one from a field or
     * resource reference is not configuration and leaves it unset). Values are resolved from this snapshot.
     */
    @JsonIgnore
    public Map<String, Map<String, String>> environments() {
        Map<String, Map<String, String>> configMapData = new HashMap<>();
        configMaps.forEach(cm -> configMapData.put(cm.getMetadata().getName(), orEmpty(cm.getData())));
        Map<String, Map<String, String>> secretData = new HashMap<>();
        secrets.forEach(s -> secretData.put(s.getMetadata().getName(), decoded(s)));
        Function<String, Map<String, String>> cm = n -> configMapData.getOrDefault(n, Map.of());
        Function<String, Map<String, String>> secret = n -> secretData.getOrDefault(n, Map.of());
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (ContainerEnv c : containers) {
            Map<String, String> env = new HashMap<>();
            for (EnvFromSource f : c.envFrom()) {
                String prefix = f.getPrefix() == null ? "" : f.getPrefix();
                Map<String, String> values = f.getConfigMapRef() != null ? cm.apply(f.getConfigMapRef().getName())
                        : f.getSecretRef() != null ? secret.apply(f.getSecretRef().getName()) : Map.of();
                values.forEach((k, v) -> env.put(prefix + k, v));
            }
            for (EnvVar e : c.env()) {
                var from = e.getValueFrom();
                if (from == null) {
                    env.put(e.getName(), e.getValue() == null ? "" : e.getValue());
                } else if (from.getConfigMapKeyRef() != null || from.getSecretKeyRef() != null) {
                    String value = from.getConfigMapKeyRef() != null
                            ? cm.apply(from.getConfigMapKeyRef().getName()).get(from.getConfigMapKeyRef().getKey())
                            : secret.apply(from.getSecretKeyRef().getName()).get(from.getSecretKeyRef().getKey());
                    if (value != null) {
                        env.put(e.getName(), value);
                    }
                } else {
                    env.remove(e.getName());
                }
            }
            out.put(c.deployment() + "/" + c.container(), env);
        }
        return out;
    }

    private static Map<String, String> decoded(Secret s) {
        Map<String, String> out = new HashMap<>();
        orEmpty(s.getData()).forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        return out;
    }

    public void writeTo(OutputStream out) throws IOException {
        // the backup finishes the pipeline behind out: the writer must not close it
        Json.MAPPER.writer().without(JsonGenerator.Feature.AUTO_CLOSE_TARGET).writeValue(out, this);
    }

    /** The document of an artifact's plain bytes; one that does not parse is damaged (VERIFY). */
    public static ConfigSnapshot parse(byte[] json, String where) {
        ConfigSnapshot s;
        try {
            s = Json.MAPPER.readValue(json, ConfigSnapshot.class);
        } catch (IOException e) {
            // the parser's message may quote the document: name only the place
            throw new DrException(Failure.VERIFY, where + " does not hold Dify's configuration as dify-dr writes it ("
                    + e.getClass().getSimpleName() + ")");
        }
        if (s.formatVersion() != FORMAT_VERSION) {
            throw new DrException(Failure.VERIFY, where + " has format version " + s.formatVersion() + "; this dify-dr reads " + FORMAT_VERSION);
        }
        return s;
    }

    /** Names only: a snapshot's values never reach a log line or a message. */
    @Override
    public String toString() {
        return "ConfigSnapshot[namespace=" + namespace + ", configMaps=" + configMaps.stream().map(c -> c.getMetadata().getName()).toList()
                + ", secrets=" + secrets.stream().map(s -> s.getMetadata().getName()).toList() + ", containers=" + containers + "]";
    }
}
