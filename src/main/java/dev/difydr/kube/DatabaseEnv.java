package dev.difydr.kube;

import dev.difydr.DrException;
import dev.difydr.Failure;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads Dify's database settings as each container would see them at start: an {@code env} entry wins over
 * {@code envFrom}, the last {@code env} entry of a name wins (the douban chart lists {@code DB_DATABASE} twice for the
 * plugin daemon), and among {@code envFrom} sources the last one holding the key wins. Init containers count too.
 * ConfigMaps and Secrets are read once per instance, so one instance gives one consistent picture.
 */
public final class DatabaseEnv {
    public static final String DATABASE = "DB_DATABASE";
    public static final String HOST = "DB_HOST";
    public static final String PORT = "DB_PORT";
    public static final String USERNAME = "DB_USERNAME";
    public static final String PASSWORD = "DB_PASSWORD";
    /** Every variable a restore reads and may change. */
    public static final List<String> VARIABLES = List.of(DATABASE, HOST, PORT, USERNAME, PASSWORD);

    private final KubernetesClient client;
    private final String namespace;
    private final List<String> variables;
    private final Map<String, Optional<Map<String, String>>> configMaps = new HashMap<>();
    private final Map<String, Optional<Map<String, String>>> secrets = new HashMap<>();

    public DatabaseEnv(KubernetesClient client, String namespace) {
        this(client, namespace, VARIABLES);
    }

    /**
     * Resolves only {@code variables} (which must include {@code DB_DATABASE}), so that a reader that needs only the
     * database names (a backup) reads no Secret that holds just a password.
     */
    public DatabaseEnv(KubernetesClient client, String namespace, List<String> variables) {
        if (!variables.contains(DATABASE)) {
            throw new IllegalArgumentException("the variables to read must include " + DATABASE);
        }
        this.client = client;
        this.namespace = namespace;
        this.variables = List.copyOf(variables);
    }

    /** The value of one variable and where it is kept; a password's value is never part of its text. */
    public record Value(String variable, EnvSource source, String value) {
        @Override
        public String toString() {
            return variable + " from " + source.describe() + (PASSWORD.equals(variable) ? "" : " = " + value);
        }
    }

    /** The database settings of one container that reads {@code DB_DATABASE}. */
    public record ContainerSettings(String deployment, String container, boolean init, Map<String, Value> values) {
        public String get(String variable) {
            Value v = values.get(variable);
            return v == null ? null : v.value();
        }
    }

    public List<ContainerSettings> read(Deployment d) {
        String name = d.getMetadata().getName();
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        List<ContainerSettings> out = new ArrayList<>();
        for (boolean init : new boolean[] {true, false}) {
            List<Container> containers = init ? pod.getInitContainers() : pod.getContainers();
            for (Container c : containers == null ? List.<Container>of() : containers) {
                Map<String, Value> values = new LinkedHashMap<>();
                for (String variable : variables) {
                    resolve(name, c, init, variable).ifPresent(v -> values.put(variable, v));
                }
                if (values.containsKey(DATABASE)) {
                    out.add(new ContainerSettings(name, c.getName(), init, values));
                }
            }
        }
        return out;
    }

    public List<ContainerSettings> read(String deployment) {
        return read(Deployments.require(client, namespace, deployment));
    }

    private Optional<Value> resolve(String deployment, Container c, boolean init, String variable) {
        List<EnvVar> env = c.getEnv() == null ? List.of() : c.getEnv();
        for (int i = env.size() - 1; i >= 0; i--) {
            EnvVar e = env.get(i);
            if (!variable.equals(e.getName())) {
                continue;
            }
            if (e.getValueFrom() == null) {
                return Optional.of(new Value(variable, EnvSource.inline(deployment, c.getName(), init, i, variable), e.getValue() == null ? "" : e.getValue()));
            }
            var ref = e.getValueFrom();
            if (ref.getConfigMapKeyRef() != null) {
                String object = ref.getConfigMapKeyRef().getName();
                String key = ref.getConfigMapKeyRef().getKey();
                return Optional.of(new Value(variable, EnvSource.configMap(object, key), configMap(object).map(m -> m.get(key)).orElse(null)));
            }
            if (ref.getSecretKeyRef() != null) {
                String object = ref.getSecretKeyRef().getName();
                String key = ref.getSecretKeyRef().getKey();
                return Optional.of(new Value(variable, EnvSource.secret(object, key), secret(object).map(m -> m.get(key)).orElse(null)));
            }
            throw new DrException(Failure.KUBERNETES, variable + " of Deployment/" + deployment + " container " + c.getName()
                    + " comes from a field or resource reference, which dify-dr cannot rewire; set it inline or from a ConfigMap or Secret");
        }
        List<EnvFromSource> from = c.getEnvFrom() == null ? List.of() : c.getEnvFrom();
        for (int i = from.size() - 1; i >= 0; i--) {
            EnvFromSource src = from.get(i);
            String prefix = src.getPrefix() == null ? "" : src.getPrefix();
            if (!variable.startsWith(prefix)) {
                continue;
            }
            String key = variable.substring(prefix.length());
            if (src.getConfigMapRef() != null) {
                String object = src.getConfigMapRef().getName();
                Optional<String> v = configMap(object).map(m -> m.get(key));
                if (v.isPresent()) {
                    return Optional.of(new Value(variable, EnvSource.configMap(object, key), v.get()));
                }
            } else if (src.getSecretRef() != null) {
                String object = src.getSecretRef().getName();
                Optional<String> v = secret(object).map(m -> m.get(key));
                if (v.isPresent()) {
                    return Optional.of(new Value(variable, EnvSource.secret(object, key), v.get()));
                }
            }
        }
        return Optional.empty();
    }

    private Optional<Map<String, String>> configMap(String name) {
        return configMaps.computeIfAbsent(name, n -> {
            try {
                ConfigMap cm = client.configMaps().inNamespace(namespace).withName(n).get();
                return Optional.ofNullable(cm).map(x -> x.getData() == null ? Map.of() : x.getData());
            } catch (KubernetesClientException e) {
                throw KubeErrors.failed("read ConfigMap " + n, namespace, e);
            }
        });
    }

    /** One key of a Secret in the namespace, decoded; empty when the Secret or the key does not exist. */
    public Optional<String> secretValue(String name, String key) {
        return secret(name).map(m -> m.get(key));
    }

    private Optional<Map<String, String>> secret(String name) {
        return secrets.computeIfAbsent(name, n -> {
            try {
                Secret s = client.secrets().inNamespace(namespace).withName(n).get();
                return Optional.ofNullable(s).map(DatabaseEnv::decoded);
            } catch (KubernetesClientException e) {
                throw KubeErrors.failed("read Secret " + n, namespace, e);
            }
        });
    }

    private static Map<String, String> decoded(Secret s) {
        Map<String, String> out = new HashMap<>();
        if (s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        }
        if (s.getStringData() != null) {
            out.putAll(s.getStringData());
        }
        return out;
    }
}
