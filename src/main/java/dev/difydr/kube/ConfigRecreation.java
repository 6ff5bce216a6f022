package dev.difydr.kube;

import dev.difydr.DrException;
import dev.difydr.Failure;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Creates a snapshot's ConfigMaps and Secrets in a namespace, never over a live object. One that does not exist there
 * is created; one that exists with the same content ({@code data}, {@code binaryData}, a Secret's {@code type}) is
 * left as it is; one that exists with other content is a conflict, which stops the re-creation before anything is
 * created and is described by key names, never by values. Labels and annotations are not content.
 */
public final class ConfigRecreation {
    public enum Action { CREATE, SAME, DIFFERS }

    /** What happens to one object; {@code differences} names the keys of a conflict. */
    public record Decision(String kind, String name, Action action, List<String> differences) {
        public String object() {
            return kind + "/" + name;
        }

        public String describe() {
            return object() + (action == Action.DIFFERS ? " (" + String.join(", ", differences) + ")" : "");
        }
    }

    private final KubernetesClient client;
    private final String namespace;

    public ConfigRecreation(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    public String namespace() {
        return namespace;
    }

    /** Each object of the snapshot compared with the namespace as it is now; changes nothing. */
    public List<Decision> plan(ConfigSnapshot snapshot) {
        List<Decision> out = new ArrayList<>();
        for (ConfigMap cm : snapshot.configMaps()) {
            String name = cm.getMetadata().getName();
            ConfigMap live = call("read ConfigMap " + name, () -> client.configMaps().inNamespace(namespace).withName(name).get());
            out.add(decide(ConfigSnapshot.CONFIG_MAP, name, live == null ? null : differences(cm, live)));
        }
        for (Secret s : snapshot.secrets()) {
            String name = s.getMetadata().getName();
            Secret live = call("read Secret " + name, () -> client.secrets().inNamespace(namespace).withName(name).get());
            out.add(decide(ConfigSnapshot.SECRET, name, live == null ? null : differences(s, live)));
        }
        return out;
    }

    public static List<Decision> conflicts(List<Decision> plan) {
        return plan.stream().filter(d -> d.action() == Action.DIFFERS).toList();
    }

    /**
     * Creates the objects that do not exist, deciding again first: a conflict found now (the namespace changed since
     * the plan) fails (KUBERNETES) with nothing created. Each object created ("Secret/name") is told to
     * {@code created} at once, so that one created before a later failure is known too.
     */
    public void create(ConfigSnapshot snapshot, Consumer<String> created) {
        List<Decision> plan = plan(snapshot);
        List<Decision> conflicts = conflicts(plan);
        if (!conflicts.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, "namespace " + namespace + " now holds " + describe(conflicts)
                    + " with other content than the backup; nothing was created, nothing is overwritten");
        }
        for (Decision d : plan) {
            if (d.action() != Action.CREATE) {
                continue;
            }
            HasMetadata object = d.kind().equals(ConfigSnapshot.CONFIG_MAP)
                    ? new ConfigMapBuilder(find(snapshot.configMaps(), d.name())).editMetadata().withNamespace(namespace).endMetadata().build()
                    : new SecretBuilder(find(snapshot.secrets(), d.name())).editMetadata().withNamespace(namespace).endMetadata().build();
            try {
                client.resource(object).inNamespace(namespace).create();
                created.accept(d.object());
            } catch (KubernetesClientException e) {
                // created by someone else since the plan: fine when it holds what the backup holds
                if (e.getCode() != 409 || conflicts(plan(only(snapshot, d))).size() > 0) {
                    throw KubeErrors.failed("create " + d.object() + (e.getCode() == 409 ? ", which was created meanwhile with other content," : ""),
                            namespace, e);
                }
            }
        }
    }

    /** Deletes objects this class created ("Secret/name"); one already gone is fine. */
    public void delete(List<String> objects) {
        for (String object : objects) {
            String[] kindName = object.split("/", 2);
            call("delete " + object, () -> kindName[0].equals(ConfigSnapshot.CONFIG_MAP)
                    ? client.configMaps().inNamespace(namespace).withName(kindName[1]).delete()
                    : client.secrets().inNamespace(namespace).withName(kindName[1]).delete());
        }
    }

    public static String describe(List<Decision> decisions) {
        return decisions.stream().map(Decision::describe).collect(Collectors.joining(", "));
    }

    private static Decision decide(String kind, String name, List<String> differences) {
        if (differences == null) {
            return new Decision(kind, name, Action.CREATE, List.of());
        }
        return new Decision(kind, name, differences.isEmpty() ? Action.SAME : Action.DIFFERS, differences);
    }

    private static List<String> differences(ConfigMap backup, ConfigMap live) {
        List<String> out = differences(backup.getData(), live.getData());
        out.addAll(differences(backup.getBinaryData(), live.getBinaryData()));
        return out;
    }

    private static List<String> differences(Secret backup, Secret live) {
        List<String> out = differences(backup.getData(), live.getData());
        if (!Objects.equals(typeOf(backup), typeOf(live))) {
            out.add(0, "type " + typeOf(live) + ", the backup's " + typeOf(backup));
        }
        return out;
    }

    private static String typeOf(Secret s) {
        return s.getType() == null || s.getType().isEmpty() ? "Opaque" : s.getType();
    }

    /** Key names only: a value never enters the description. */
    private static List<String> differences(Map<String, String> backup, Map<String, String> live) {
        Map<String, String> b = backup == null ? Map.of() : backup;
        Map<String, String> l = live == null ? Map.of() : live;
        TreeSet<String> keys = new TreeSet<>(b.keySet());
        keys.addAll(l.keySet());
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            if (!l.containsKey(k)) {
                out.add(k + " only in the backup");
            } else if (!b.containsKey(k)) {
                out.add(k + " only in the namespace");
            } else if (!Objects.equals(b.get(k), l.get(k))) {
                out.add(k + " differs");
            }
        }
        return out;
    }

    private static <T extends HasMetadata> T find(List<T> objects, String name) {
        return objects.stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst().orElseThrow();
    }

    private static ConfigSnapshot only(ConfigSnapshot s, Decision d) {
        boolean cm = d.kind().equals(ConfigSnapshot.CONFIG_MAP);
        return new ConfigSnapshot(s.formatVersion(), s.namespace(), cm ? List.of(find(s.configMaps(), d.name())) : List.of(),
                cm ? List.of() : List.of(find(s.secrets(), d.name())), List.of(), List.of());
    }

    private <T> T call(String what, Supplier<T> call) {
        try {
            return call.get();
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed(what, namespace, e);
        }
    }
}
