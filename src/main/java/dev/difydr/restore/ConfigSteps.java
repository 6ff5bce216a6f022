package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.kube.ConfigRecreation;
import dev.difydr.kube.ConfigSnapshot;
import dev.difydr.kube.Permissions;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.pipeline.Progress;
import dev.difydr.pipeline.VerifiedPlainInput;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dify's backed-up ConfigMaps and Secrets on the way back, for {@code restore --with config} and a drill with
 * {@code drill.namespace}: read from the backup's encrypted artifact and re-created in one namespace by
 * {@link ConfigRecreation}'s rule — an object that does not exist is created, one that holds the backup's content is
 * left alone, and one that holds other content refuses the whole step in the plan, before anything changes.
 */
public final class ConfigSteps {
    private static final Logger log = LoggerFactory.getLogger(ConfigSteps.class);
    /** The kind of the configuration artifact and of its component in a manifest. */
    static final String KIND = "kubernetes";

    private final Repository repository;
    private final Manifest manifest;
    private final KubernetesClient client;

    public ConfigSteps(Repository repository, Manifest manifest, KubernetesClient client) {
        this.repository = repository;
        this.manifest = manifest;
        this.client = client;
    }

    /** The backup's configuration artifact, if it has one. */
    public static Optional<Artifact> artifact(Manifest m) {
        return m.artifacts().stream().filter(a -> KIND.equals(a.kind())).findFirst();
    }

    /** The backed-up configuration, decrypted and checked against the manifest as it is read. */
    public ConfigSnapshot read() {
        Artifact a = artifact(manifest).orElseThrow(() -> new DrException(Failure.VERIFY, "backup " + manifest.id()
                + " holds no Kubernetes configuration" + skippedWhy() + "; leave config out of --with"));
        try (VerifiedPlainInput in = new ArtifactReader(repository).openPlain(manifest.id(), a, Progress.none())) {
            return ConfigSnapshot.parse(in.readAllBytes(), a.path());
        } catch (IOException e) {
            throw new DrException(Failure.STORE, "cannot read " + a.path() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Decides what happens to each object in {@code namespace}, changing nothing: refuses when dify-dr may not
     * create there, or when an object there holds other content than the backup. {@code drill}: a drill also
     * deletes what it created, and its namespace comes from {@code drill.namespace}.
     */
    public Journal.ComponentTarget plan(String namespace, boolean drill) {
        ConfigSnapshot snapshot = read();
        Artifact a = artifact(manifest).orElseThrow();
        Permissions.Rule[] rules = drill ? Permissions.DRILL_RULES.toArray(Permissions.Rule[]::new)
                : new Permissions.Rule[] {Permissions.CONFIG_MAPS_CREATE, Permissions.SECRETS_CREATE};
        List<String> denied = new Permissions(client, namespace).missing(rules);
        if (!denied.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, "re-creating the backed-up ConfigMaps and Secrets needs permission to "
                    + String.join(", ", denied) + " in namespace " + namespace);
        }
        List<ConfigRecreation.Decision> decisions = new ConfigRecreation(client, namespace).plan(snapshot);
        List<ConfigRecreation.Decision> conflicts = ConfigRecreation.conflicts(decisions);
        if (!conflicts.isEmpty()) {
            String what = "namespace " + namespace + " holds " + ConfigRecreation.describe(conflicts) + " with other content than backup "
                    + manifest.id() + "; dify-dr never overwrites a live ConfigMap or Secret. ";
            throw drill ? new DrException(Failure.CONFIG, what + "Point drill.namespace at a namespace without them, or delete them there")
                    : new DrException(Failure.USAGE, what + "Re-create the backup's into another namespace with --config-namespace NS and"
                            + " compare, or leave config out of --with");
        }
        Journal.ComponentTarget t = new Journal.ComponentTarget(ComponentSteps.CONFIG, a.name(), a.path(), a.plainBytes(), "namespace " + namespace);
        t.detail = summary(decisions);
        return t;
    }

    /** Creates what does not exist (deciding again first); what it created is recorded in {@code c.created}. */
    public String restore(Journal.ComponentTarget c, String namespace, Runnable save) {
        long start = System.nanoTime();
        c.started = true;
        save.run();
        if (c.created == null) {
            c.created = new ArrayList<>();
        }
        new ConfigRecreation(client, namespace).create(read(), object -> {
            if (!c.created.contains(object)) {
                c.created.add(object);
                save.run();
            }
        });
        c.detail = (c.created.isEmpty() ? "nothing to create" : "created " + String.join(", ", c.created)) + " in namespace " + namespace;
        c.seconds = Math.round((System.nanoTime() - start) / 1e6) / 1000.0;
        c.restored = true;
        save.run();
        log.info("config restored into namespace {}: {}", namespace, c.detail);
        return c.target + ": " + c.detail;
    }

    /** Deletes the objects {@link #restore} created (a drill's cleanup); the ones that were there before stay. */
    public String remove(Journal.ComponentTarget c, String namespace) {
        if (c.created == null || c.created.isEmpty()) {
            return "";
        }
        new ConfigRecreation(client, namespace).delete(c.created);
        return "; deleted " + String.join(", ", c.created) + " from namespace " + namespace;
    }

    private static String summary(List<ConfigRecreation.Decision> decisions) {
        String create = decisions.stream().filter(d -> d.action() == ConfigRecreation.Action.CREATE).map(ConfigRecreation.Decision::object)
                .collect(Collectors.joining(", "));
        String same = decisions.stream().filter(d -> d.action() == ConfigRecreation.Action.SAME).map(ConfigRecreation.Decision::object)
                .collect(Collectors.joining(", "));
        return (create.isEmpty() ? "nothing to create" : "create " + create) + (same.isEmpty() ? "" : "; already there with the backup's content: " + same);
    }

    private String skippedWhy() {
        return manifest.skipped() == null ? "" : manifest.skipped().stream().filter(s -> KIND.equals(s.component()))
                .map(s -> " (" + s.reason() + ")").findFirst().orElse("");
    }
}
