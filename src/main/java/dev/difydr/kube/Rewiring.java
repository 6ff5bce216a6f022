package dev.difydr.kube;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.repository.Json;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Applies {@link EnvChange}s, each as a patch that only applies over the value it expects. Environment read through
 * {@code envFrom} or {@code valueFrom} is fixed when a container starts, so every Deployment that reads a changed
 * value gets a new {@code kubectl.kubernetes.io/restartedAt} pod annotation: its pods are replaced even where nothing
 * in the Deployment itself changed.
 */
public final class Rewiring {
    static final String RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

    private final KubernetesClient client;
    private final String namespace;

    public Rewiring(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** What would stop these changes from being made: ConfigMaps or Secrets marked immutable. */
    public List<String> obstacles(List<EnvChange> changes) {
        List<String> out = new ArrayList<>();
        for (EnvChange c : changes) {
            EnvSource s = c.source();
            try {
                Boolean immutable = switch (s.kind()) {
                    case INLINE -> false;
                    case CONFIG_MAP -> java.util.Optional.ofNullable(client.configMaps().inNamespace(namespace).withName(s.object()).get())
                            .map(x -> x.getImmutable()).orElse(false);
                    case SECRET -> java.util.Optional.ofNullable(client.secrets().inNamespace(namespace).withName(s.object()).get())
                            .map(x -> x.getImmutable()).orElse(false);
                };
                if (Boolean.TRUE.equals(immutable)) {
                    out.add(s.describe() + " cannot be changed: the " + (s.kind() == EnvSource.Kind.SECRET ? "Secret" : "ConfigMap")
                            + " is immutable; replace it with a mutable copy (same name, same data) and plan the restore again");
                }
            } catch (KubernetesClientException e) {
                throw KubeErrors.failed("read " + s.describe(), namespace, e);
            }
        }
        return out;
    }

    /** Whether the change's value is {@code value} now. */
    public boolean holds(EnvChange c, String value) {
        return value.equals(current(c.source()));
    }

    /** Values that hold neither side of their change any more: someone else has changed them since. */
    public List<String> conflicts(List<EnvChange> changes) {
        List<String> out = new ArrayList<>();
        for (EnvChange c : changes) {
            String current = current(c.source());
            if (!c.oldValue().equals(current) && !c.newValue().equals(current)) {
                out.add(c.source().describe() + " is '" + current + "', neither the value before the restore ('" + c.oldValue()
                        + "') nor the one it set ('" + c.newValue() + "'): it was changed since; set it by hand");
            }
        }
        return out;
    }

    /**
     * What {@link #apply} did. Every change and every restart is attempted even when an earlier one failed, so that a
     * rollback puts back whatever it can; the failures are listed, one line each.
     */
    public record Result(int changed, int total, List<String> valueFailures, List<String> restartFailures) {
        public boolean complete() {
            return valueFailures.isEmpty() && restartFailures.isEmpty();
        }

        public String describe() {
            String s = "changed " + changed + " of " + total + " values";
            if (!valueFailures.isEmpty()) {
                s += "; not changed: " + String.join("; ", valueFailures);
            }
            if (!restartFailures.isEmpty()) {
                s += "; pods not restarted: " + String.join("; ", restartFailures);
            }
            return s;
        }
    }

    /** Sets each change to its new value ({@code forward}) or back to its old one, then restarts the Deployments that read them. */
    public Result apply(List<EnvChange> changes, boolean forward) {
        Set<String> restart = new LinkedHashSet<>();
        List<String> valueFailures = new ArrayList<>();
        int changed = 0;
        for (EnvChange c : changes) {
            String from = forward ? c.oldValue() : c.newValue();
            String to = forward ? c.newValue() : c.oldValue();
            try {
                String current = current(c.source());
                if (!to.equals(current)) {
                    if (!from.equals(current)) {
                        throw new DrException(Failure.KUBERNETES, c.source().describe() + " is '" + current + "', expected '" + from
                                + "': it was changed by someone else meanwhile");
                    }
                    set(c.source(), from, to);
                    changed++;
                }
                restart.addAll(c.deployments());
            } catch (DrException e) {
                valueFailures.add(e.getMessage());
            }
        }
        String now = Instant.now().toString();
        List<String> restartFailures = new ArrayList<>();
        for (String deployment : restart) {
            try {
                restart(deployment, now);
            } catch (DrException e) {
                restartFailures.add(e.getMessage());
            }
        }
        return new Result(changed, changes.size(), valueFailures, restartFailures);
    }

    private String current(EnvSource s) {
        try {
            return switch (s.kind()) {
                // An empty value is stored without its key: Kubernetes reads a missing value as ""
                case INLINE -> Objects.toString(entry(Deployments.require(client, namespace, s.deployment()), s).getValue(), "");
                case CONFIG_MAP -> {
                    var cm = client.configMaps().inNamespace(namespace).withName(s.object()).get();
                    yield cm == null || cm.getData() == null ? null : cm.getData().get(s.key());
                }
                case SECRET -> {
                    var secret = client.secrets().inNamespace(namespace).withName(s.object()).get();
                    String b64 = secret == null || secret.getData() == null ? null : secret.getData().get(s.key());
                    yield b64 == null ? null : new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
                }
            };
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed("read " + s.describe(), namespace, e);
        }
    }

    private void set(EnvSource s, String from, String to) {
        try {
            switch (s.kind()) {
                case INLINE -> {
                    Deployment d = Deployments.require(client, namespace, s.deployment());
                    entry(d, s);
                    var pod = d.getSpec().getTemplate().getSpec();
                    List<Container> containers = s.init() ? pod.getInitContainers() : pod.getContainers();
                    int c = containers.indexOf(containers.stream().filter(x -> x.getName().equals(s.container())).findFirst().orElseThrow());
                    String path = "/spec/template/spec/" + (s.init() ? "initContainers/" : "containers/") + c + "/env/" + s.index();
                    // The whole entry is tested: an empty value is stored as an entry without "value" (omitempty)
                    Map<String, String> expected = from.isEmpty() ? Map.of("name", s.key()) : Map.of("name", s.key(), "value", from);
                    new JsonPatch().test(path, expected).add(path + "/value", to)
                            .applyTo(client.apps().deployments().inNamespace(namespace).withName(s.deployment()));
                }
                case CONFIG_MAP -> {
                    String path = "/data/" + JsonPatch.segment(s.key());
                    new JsonPatch().test(path, from).replace(path, to).applyTo(client.configMaps().inNamespace(namespace).withName(s.object()));
                }
                case SECRET -> {
                    String path = "/data/" + JsonPatch.segment(s.key());
                    new JsonPatch().test(path, base64(from)).replace(path, base64(to))
                            .applyTo(client.secrets().inNamespace(namespace).withName(s.object()));
                }
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 422) {
                throw new DrException(Failure.KUBERNETES, s.describe() + " is no longer '" + from
                        + "': it was changed by someone else meanwhile", e);
            }
            throw KubeErrors.failed("change " + s.describe(), namespace, e);
        }
    }

    private static String base64(String value) {
        return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Marks the pod template so that the Deployment replaces its pods, as {@code kubectl rollout restart} does. A merge
     * patch: it creates {@code annotations} where the template has none (the API server stores an empty map as no key
     * at all, and fabric8 reads a missing map as an empty one, so the client cannot tell) and keeps the others.
     */
    private void restart(String name, String when) {
        var patch = Json.MAPPER.createObjectNode();
        patch.putObject("spec").putObject("template").putObject("metadata").putObject("annotations").put(RESTARTED_AT, when);
        try {
            client.apps().deployments().inNamespace(namespace).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed("restart the pods of Deployment " + name, namespace, e);
        }
    }

    private static EnvVar entry(Deployment d, EnvSource s) {
        var pod = d.getSpec().getTemplate().getSpec();
        List<Container> containers = s.init() ? pod.getInitContainers() : pod.getContainers();
        Container c = containers == null ? null : containers.stream().filter(x -> x.getName().equals(s.container())).findFirst().orElse(null);
        if (c == null || c.getEnv() == null || c.getEnv().size() <= s.index() || !s.key().equals(c.getEnv().get(s.index()).getName())) {
            throw new DrException(Failure.KUBERNETES, s.describe() + " is no longer where it was (the Deployment was changed meanwhile)");
        }
        return c.getEnv().get(s.index());
    }
}
