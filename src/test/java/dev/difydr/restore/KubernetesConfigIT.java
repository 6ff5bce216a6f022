package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.crypto.KeysetFile;
import dev.difydr.crypto.Keyring;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Dify's own configuration in a backup, on every rendered chart: stored only encrypted, shown by name and key, re-created
 * by {@code restore --with config} and a drill, never over live objects, and compared with the live settings by name.
 */
class KubernetesConfigIT extends RestoreTestBase {
    private static final String OTHER_NAMESPACE = "drill";

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void backupStoresTheConfigurationEncryptedAndShowNamesObjectsAndKeysOnly(DifyChart chart) throws IOException {
        start(chart);
        Path config = encryptedConfig("");

        CliRun backup = cliWith(config, "--json", "backup");

        assertThat(backup.code()).as(backup.everything()).isZero();
        JsonNode result = DifyTestbed.json(backup.out());
        String id = result.get("id").asText();
        JsonNode artifact = artifactOfKind(result, "kubernetes");
        assertThat(artifact.get("path").asText()).isEqualTo("dify/backups/" + id + "/kubernetes/resources.json.zst.enc");
        assertThat(artifact.get("encryption").asText()).isEqualTo(Keyring.ALGORITHM);
        byte[] stored = Files.readAllBytes(tb.repository.resolve(artifact.get("path").asText()));
        String storedText = new String(stored, StandardCharsets.ISO_8859_1);
        String manifest = Files.readString(tb.repository.resolve("dify/backups/" + id + "/manifest.json"));
        for (String value : secretValues()) {
            assertThat(storedText).doesNotContain(value);
            assertThat(manifest).doesNotContain(value);
            assertThat(backup.everything()).doesNotContain(value);
        }

        CliRun show = cliWith(config, "show", id);

        assertThat(show.code()).as(show.everything()).isZero();
        String secretKeyHolder = secretKeyHolder(chart);
        assertThat(show.out()).contains("kubernetes  namespace dify: ")
                .containsPattern("  Secret " + secretKeyHolder + ": .*\\bSECRET_KEY\\b")
                .containsPattern("  Secret " + secretKeyHolder + ": .*\\bDB_PASSWORD\\b")
                .contains("  Deployment " + chart.api() + " container " + chart.apiContainer() + " env: ")
                .doesNotContain("dify-smoke");
        if (chart.boris()) {
            assertThat(show.out()).containsPattern("  ConfigMap " + chart.api() + ": .*\\bDB_DATABASE\\b")
                    .contains("  ConfigMap " + chart.prefix() + "-proxy: ");
        } else {
            assertThat(show.out()).contains("  ConfigMap " + chart.prefix() + "-sandbox-config: ")
                    .containsPattern("  Deployment " + chart.api() + " container dify-api env: .*\\bPLUGIN_DAEMON_KEY\\b");
        }
        for (String value : secretValues()) {
            assertThat(show.everything()).doesNotContain(value);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void restoreWithConfigRecreatesTheObjectsInAnotherNamespaceWithTheirData(DifyChart chart) {
        start(chart);
        Path config = encryptedConfig("");
        // the chart's Role, and in the other namespace what the chart's README says --config-namespace needs there
        List<Role> roles = new java.util.ArrayList<>(chartRoles(config));
        roles.add(new io.fabric8.kubernetes.api.model.rbac.RoleBuilder().withNewMetadata().withName("config-copy").withNamespace(OTHER_NAMESPACE)
                .endMetadata().addNewRule().withApiGroups("").withResources("configmaps", "secrets").withVerbs("get", "create").endRule().build());
        cluster.enforce(roles);
        String id = backup(config);
        // In Dify's own namespace everything is there with the backup's content: nothing to create.
        CliRun here = cliWith(config, "restore", id, "--plan", "--with", "config");

        assertThat(here.code()).as(here.everything()).isZero();
        assertThat(here.out()).contains("-> namespace dify: nothing to create; already there with the backup's content: ")
                .contains("Secret/" + secretKeyHolder(chart));

        CliRun plan = cliWith(config, "restore", id, "--plan", "--with", "config", "--config-namespace", OTHER_NAMESPACE);

        assertThat(plan.code()).as(plan.everything()).isZero();
        assertThat(plan.out()).contains("restore-config", "create the backup's ConfigMaps and Secrets that do not exist in namespace drill")
                .containsPattern("kubernetes/resources.json.zst.enc -> namespace drill: create .*Secret/" + secretKeyHolder(chart));
        assertThat(k8s().secrets().inNamespace(OTHER_NAMESPACE).list().getItems()).isEmpty();

        // as backed up: the restore itself changes the live ones (DB_DATABASE in a chart's ConfigMap)
        Map<String, ConfigMap> configMapsBefore = new java.util.HashMap<>();
        k8s().configMaps().inNamespace("dify").list().getItems().forEach(c -> configMapsBefore.put(c.getMetadata().getName(), c));
        Map<String, Secret> secretsBefore = new java.util.HashMap<>();
        k8s().secrets().inNamespace("dify").list().getItems().forEach(x -> secretsBefore.put(x.getMetadata().getName(), x));

        CliRun run = cliWith(config, "--json", "restore", id, "--yes", "--with", "config", "--config-namespace", OTHER_NAMESPACE);

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode journal = DifyTestbed.json(run.out());
        assertThat(journal.get("state").asText()).isEqualTo("completed");
        assertThat(journal.get("steps")).extracting(s -> s.get("name").asText()).contains("restore-config");
        JsonNode facts = manifestOf(id).get("kubernetes");
        List<String> configMaps = names(facts.get("configMaps"));
        List<String> secrets = names(facts.get("secrets"));
        assertThat(secrets).contains(secretKeyHolder(chart));
        for (String name : configMaps) {
            ConfigMap copy = k8s().configMaps().inNamespace(OTHER_NAMESPACE).withName(name).get();
            assertThat(copy).as("ConfigMap %s re-created", name).isNotNull();
            assertThat(copy.getData()).isEqualTo(configMapsBefore.get(name).getData());
        }
        for (String name : secrets) {
            Secret copy = k8s().secrets().inNamespace(OTHER_NAMESPACE).withName(name).get();
            assertThat(copy).as("Secret %s re-created", name).isNotNull();
            assertThat(copy.getData()).isEqualTo(secretsBefore.get(name).getData());
            assertThat(copy.getType()).isEqualTo(secretsBefore.get(name).getType());
            assertThat(copy.getMetadata().getOwnerReferences()).isEmpty();
        }
        assertThat(journal.get("components").get(0).get("created")).hasSize(configMaps.size() + secrets.size());
        for (String value : secretValues()) {
            assertThat(run.everything()).doesNotContain(value);
        }
        assertThat(cluster.refused()).as(String.join("\n", cluster.calls())).isEmpty();
        assertThat(cluster.checks()).contains("create secrets");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void aSecretKeyChangedSinceTheBackupIsAWarningByNameAndNeverOverwritten(DifyChart chart) {
        start(chart);
        Path config = encryptedConfig("");
        String id = backup(config);
        String holder = secretKeyHolder(chart);
        String backedUp = decoded(k8s().secrets().withName(holder).get(), "SECRET_KEY");
        String changed = "changed-secret-key-" + Long.toHexString(System.nanoTime());
        k8s().secrets().withName(holder).edit(s -> {
            s.getData().put("SECRET_KEY", Base64.getEncoder().encodeToString(changed.getBytes(StandardCharsets.UTF_8)));
            return s;
        });

        CliRun plan = cliWith(config, "restore", id, "--plan");

        assertThat(plan.code()).as(plan.everything()).isZero();
        assertThat(plan.out()).contains("Dify's settings now, compared with the backup's (values are never shown):")
                .contains("SECRET_KEY DIFFERS FROM BACKUP " + id)
                .contains("SECRET_KEY: differs from the backup in " + chart.api() + "/" + chart.apiContainer())
                .contains("DB_HOST: same", "DB_PASSWORD: same", "REDIS_PASSWORD: same");
        assertThat(plan.everything()).doesNotContain(backedUp).doesNotContain(changed)
                .doesNotContain(Base64.getEncoder().encodeToString(backedUp.getBytes(StandardCharsets.UTF_8)));

        CliRun refused = cliWith(config, "restore", id, "--plan", "--with", "config");

        assertThat(refused.code()).as(refused.everything()).isEqualTo(2);
        assertThat(refused.everything()).contains("Secret/" + holder + " (SECRET_KEY differs)", "--config-namespace")
                .doesNotContain(backedUp).doesNotContain(changed);
        assertThat(decoded(k8s().secrets().withName(holder).get(), "SECRET_KEY")).isEqualTo(changed);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void withoutAKeysetTheConfigurationIsSkippedByDefaultAndRefusedWhenAskedFor(DifyChart chart) throws IOException {
        start(chart);
        Path config = config("");

        CliRun backup = cliWith(config, "--json", "backup");

        assertThat(backup.code()).as(backup.everything()).isZero();
        JsonNode result = DifyTestbed.json(backup.out());
        assertThat(result.get("artifacts")).noneMatch(a -> a.get("kind").asText().equals("kubernetes"));
        JsonNode skipped = manifestOf(result.get("id").asText()).get("skipped").get(0);
        assertThat(skipped.get("component").asText()).isEqualTo("kubernetes");
        assertThat(skipped.get("reason").asText()).contains("holds secrets", "stored only encrypted", "set encryption.keyset");
        List<Path> before = files(tb.repository);

        CliRun only = cliWith(config, "backup", "--only", "kubernetes");

        assertThat(only.code()).as(only.everything()).isEqualTo(3);
        assertThat(only.everything()).contains("backup --only kubernetes refused", "set encryption.keyset");
        assertThat(files(tb.repository)).isEqualTo(before);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("charts")
    void theDrillRecreatesTheConfigurationInItsNamespaceAndDeletesOnlyWhatItCreated(DifyChart chart) {
        start(chart);
        Path config = encryptedConfig("drill:\n  namespace: " + OTHER_NAMESPACE + "\n");
        List<Role> roles = chartRoles(config);
        assertThat(roles).extracting(r -> r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrder("dify/dify-dr", OTHER_NAMESPACE + "/dify-dr-drill");
        cluster.enforce(roles.stream().filter(r -> r.getMetadata().getNamespace().equals(cluster.namespace())).toList());
        CliRun withoutDrillRole = cliWith(config, "config", "check");
        assertThat(withoutDrillRole.code()).isEqualTo(10);
        assertThat(withoutDrillRole.out()).contains("a drill may not get configmaps, create configmaps, delete configmaps, get secrets,"
                + " create secrets, delete secrets in namespace " + OTHER_NAMESPACE);
        cluster.enforce(roles);
        CliRun check = cliWith(config, "config", "check");
        assertThat(check.out()).contains("drill.namespace", "namespace " + OTHER_NAMESPACE + ": a drill may re-create");
        String id = backup(config);
        String holder = secretKeyHolder(chart);
        // One object is there already with the backup's content: the drill uses it and leaves it.
        Secret existing = k8s().secrets().withName(holder).get();
        k8s().secrets().inNamespace(OTHER_NAMESPACE).resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
                .withNewMetadata().withName(holder).withNamespace(OTHER_NAMESPACE).endMetadata()
                .withType(existing.getType()).withData(existing.getData()).build()).create();

        CliRun drill = cliWith(config, "--json", "drill", id);

        assertThat(drill.code()).as(drill.everything()).isZero();
        JsonNode report = DifyTestbed.json(drill.out());
        assertThat(report.get("steps")).extracting(s -> s.get("name").asText()).contains("restore-config", "cleanup");
        JsonNode component = report.get("components").get(0);
        assertThat(component.get("kind").asText()).isEqualTo("config");
        assertThat(names(component.get("created"))).isNotEmpty().doesNotContain("Secret/" + holder);
        assertThat(k8s().secrets().inNamespace(OTHER_NAMESPACE).list().getItems()).extracting(s -> s.getMetadata().getName())
                .containsExactly(holder);
        assertThat(k8s().configMaps().inNamespace(OTHER_NAMESPACE).list().getItems()).isEmpty();
        for (String value : secretValues()) {
            assertThat(drill.everything()).doesNotContain(value);
        }
        assertThat(cluster.refused()).as("the backup and the drill under the chart's Roles:\n" + String.join("\n", cluster.calls())).isEmpty();
        assertThat(cluster.checks()).contains("get secrets").anyMatch(c -> c.matches("create (configmaps|secrets)"))
                .anyMatch(c -> c.matches("delete (configmaps|secrets)"));
    }

    private Path encryptedConfig(String extra) {
        Path keyset = tmp.resolve("keyset.json");
        try {
            if (!Files.exists(keyset)) {
                Files.writeString(keyset, new KeysetFile(Keyring.generate(), Map.of(), null).write());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return config("encryption:\n  keyset: \"${file:" + keyset + "}\"\n" + extra);
    }

    private static String backup(Path config) {
        CliRun run = cliWith(config, "--json", "backup");
        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode result = DifyTestbed.json(run.out());
        artifactOfKind(result, "kubernetes");
        return result.get("id").asText();
    }

    private static JsonNode artifactOfKind(JsonNode result, String kind) {
        for (JsonNode a : result.get("artifacts")) {
            if (a.get("kind").asText().equals(kind)) {
                return a;
            }
        }
        throw new AssertionError("no " + kind + " artifact in " + result);
    }

    private static JsonNode manifestOf(String id) {
        try {
            return DifyTestbed.json(Files.readString(tb.repository.resolve("dify/backups/" + id + "/manifest.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.isTextual() ? n.asText() : n.get("name").asText()));
        return out;
    }

    /** The Secret api's SECRET_KEY comes from. */
    private static String secretKeyHolder(DifyChart chart) {
        return chart.boris() ? chart.api() : "dify-credentials";
    }

    /**
     * Every value a backup must never show: those of the Secrets in Dify's namespace (decoded and as stored) and the
     * inline env values of its Deployments that look like keys; short ones ("dify", "dify-sandbox") are left out: they are names too.
     */
    private Set<String> secretValues() {
        Set<String> values = new TreeSet<>();
        for (Secret s : k8s().secrets().inNamespace("dify").list().getItems()) {
            (s.getData() == null ? Map.<String, String>of() : s.getData()).forEach((k, v) -> {
                values.add(v);
                values.add(new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8));
            });
        }
        for (Deployment d : k8s().apps().deployments().inNamespace("dify").list().getItems()) {
            d.getSpec().getTemplate().getSpec().getContainers().stream().flatMap(c -> c.getEnv() == null ? Stream.<EnvVar>empty() : c.getEnv().stream())
                    .filter(e -> e.getName().endsWith("_KEY") && e.getValue() != null).forEach(e -> values.add(e.getValue()));
        }
        values.removeIf(v -> v.length() < 16);
        assertThat(values).as("secret values to look for").isNotEmpty();
        return values;
    }

    private static String decoded(Secret s, String key) {
        return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
