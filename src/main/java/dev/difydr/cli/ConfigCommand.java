package dev.difydr.cli;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.Printable;
import dev.difydr.backup.BackupComponent;
import dev.difydr.backup.BackupComponents;
import dev.difydr.config.Config;
import dev.difydr.config.EncryptionConfig;
import dev.difydr.crypto.Keyring;
import dev.difydr.crypto.KeysetFile;
import dev.difydr.config.RedisConfig;
import dev.difydr.config.SmokeConfig;
import dev.difydr.config.StorageConfig;
import dev.difydr.source.redis.RedisEndpoint;
import dev.difydr.source.redis.RedisLogicalSource;
import dev.difydr.source.storage.StorageTarget;
import redis.clients.jedis.Jedis;
import dev.difydr.kube.Permissions;
import dev.difydr.schedule.SchedulerProcess;
import dev.difydr.kube.Workload;
import dev.difydr.kube.WorkloadDiscovery;
import dev.difydr.smoke.SmokeChecks;
import dev.difydr.source.postgres.PostgresConnector;
import dev.difydr.source.postgres.PostgresLogicalRestore;
import io.fabric8.kubernetes.client.KubernetesClient;
import dev.difydr.config.RetentionConfig;
import dev.difydr.retention.GracePeriod;
import dev.difydr.retention.RetentionPolicy;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.Stores;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "config", description = "Work with the configuration.", subcommands = ConfigCommand.Check.class)
final class ConfigCommand {
    @ParentCommand
    Cli cli;

    @Command(name = "check", description = "Validate the configuration and reach every endpoint it names; secrets are never printed.")
    static final class Check implements Callable<Integer> {
        @ParentCommand
        ConfigCommand parent;

        @Override
        public Integer call() {
            Cli cli = parent.cli;
            Config config = cli.loadConfig();
            List<Item> items = new ArrayList<>();
            items.add(new Item("configuration", true, cli.configPath() + " is valid", null));
            for (BackupComponent c : BackupComponents.configured(config, Set.of())) {
                items.add(probe(c.component().equals(c.name()) ? c.name() : c.component() + " " + c.name(), () -> {
                    try (c) {
                        String reached = c.preflight();
                        return reached + String.join("", c.warnings().stream().map(w -> "; WARNING: " + w).toList());
                    }
                }));
            }
            items.add(probe("repository", () -> {
                try (ObjectStore store = Stores.open(config.repository())) {
                    store.check();
                    return store.describe() + " reachable";
                }
            }));
            if (config.encryption() != null) {
                items.add(probe("encryption", () -> encryption(config.encryption())));
            }
            if (config.kubernetes() != null) {
                items.add(probe("kubernetes", () -> {
                    try (KubernetesClient client = cli.kubernetesClient(config)) {
                        String ns = config.kubernetes().namespace();
                        List<Workload> found = new WorkloadDiscovery(client, config.kubernetes()).discover();
                        List<String> missing = new Permissions(client, ns).missingForRestore();
                        if (!missing.isEmpty()) {
                            throw new DrException(Failure.KUBERNETES, "found Dify's Deployments, but a restore may not " + String.join(", ", missing));
                        }
                        return "namespace " + ns + ": " + String.join(", ", found.stream().map(w -> w.name() + " (" + w.role().label()
                                + (w.scaled() ? ", stopped during a restore" : "") + ")").toList());
                    }
                }));
            }
            if (config.kubernetes() != null && config.drill().namespace() != null) {
                items.add(probe("drill.namespace", () -> {
                    try (KubernetesClient client = cli.kubernetesClient(config)) {
                        String ns = config.drill().namespace();
                        List<String> missing = new Permissions(client, ns).missing(Permissions.DRILL_RULES.toArray(Permissions.Rule[]::new));
                        if (!missing.isEmpty()) {
                            throw new DrException(Failure.KUBERNETES, "a drill may not " + String.join(", ", missing) + " in namespace " + ns
                                    + " (the second Role in runbooks/incident-restore.md, \"The Role dify-dr needs\")");
                        }
                        return "namespace " + ns + ": a drill may re-create the backed-up ConfigMaps and Secrets there and delete them after";
                    }
                }));
            }
            for (String[] target : new String[][] {{"restore.target", "restore"}, {"drill.target", "drill"}}) {
                var t = target[1].equals("restore") ? config.restore().target() : config.drill().target();
                if (t != null && t.host() != null) {
                    items.add(probe(target[0], () -> {
                        PostgresLogicalRestore r = new PostgresLogicalRestore(new PostgresConnector(t.over(config.postgres())));
                        return r.where() + ": " + r.preflight();
                    }));
                }
            }
            for (String key : List.of("restore.redis", "drill.redis")) {
                RedisConfig r = key.startsWith("restore") ? config.restore().redis() : config.drill().redis();
                if (r != null) {
                    items.add(probe(key, () -> {
                        RedisEndpoint endpoint = new RedisEndpoint(r);
                        try (Jedis jedis = endpoint.connect()) {
                            return "Redis " + RedisEndpoint.serverVersion(jedis) + " at " + endpoint.where() + " reachable, "
                                    + RedisLogicalSource.keyspace(jedis).values().stream().mapToLong(Long::longValue).sum() + " keys";
                        }
                    }));
                }
            }
            for (String key : List.of("restore.storage", "drill.storage")) {
                for (StorageConfig s : key.startsWith("restore") ? config.restore().storage() : config.drill().storage()) {
                    items.add(probe(key + " " + s.name(), () -> {
                        try (StorageTarget target = StorageTarget.of(s, config.kubernetes())) {
                            target.preflight();
                            return target.describe() + " writable";
                        }
                    }));
                }
            }
            for (String[] smoke : new String[][] {{"smoke", "smoke"}, {"drill.smoke", "drill"}}) {
                SmokeConfig s = smoke[1].equals("smoke") ? config.smoke() : config.drill().smoke();
                if (s != null) {
                    items.add(probe(smoke[0], () -> new SmokeChecks(s).reach()));
                }
            }
            if (config.schedule().clustered()) {
                items.add(probe("schedule.jdbc", () -> SchedulerProcess.checkJobStore(config)));
            }
            if (!config.retention().equals(RetentionConfig.NONE)) {
                items.add(new Item("retention", true, RetentionPolicy.of(config.retention()).describe() + "; runs that never completed are deleted after "
                        + (config.retention().gracePeriod() == null ? GracePeriod.DEFAULT : config.retention().gracePeriod()), null));
            }
            Report report = new Report(items);
            cli.print(report);
            return items.stream().filter(i -> !i.ok()).findFirst().map(i -> i.failure().exitCode()).orElse(0);
        }

        /** What the keyset holds, never its key material. */
        private static String encryption(EncryptionConfig encryption) {
            if (encryption.keyset() == null || encryption.keyset().isEmpty()) {
                throw new DrException(Failure.CONFIG, "encryption.keyset is empty: backups would be stored in the clear;"
                        + " give the keyset (${file:…}) or remove the encryption section");
            }
            KeysetFile file = KeysetFile.parse(encryption.keyset().reveal(), encryption.passphrase(), "encryption.keyset");
            Keyring keyring = file.keyring();
            int keys = keyring.ids().size();
            return "keyset readable" + (file.wrapping() == null ? "" : ", wrapped with a passphrase") + ": " + keys + (keys == 1 ? " key" : " keys")
                    + ", primary " + keyring.primaryId() + " (" + Keyring.ALGORITHM + ")";
        }

        private static String quoted(List<String> names) {
            return String.join(", ", names.stream().map(n -> "'" + n + "'").toList());
        }

        private static Item probe(String name, Supplier<String> check) {
            try {
                return new Item(name, true, check.get(), null);
            } catch (DrException e) {
                return new Item(name, false, DrException.describe(e), e.failure());
            } catch (RuntimeException e) {
                return new Item(name, false, e.toString(), Failure.INTERNAL);
            }
        }
    }

    record Item(String name, boolean ok, String detail, @com.fasterxml.jackson.annotation.JsonIgnore Failure failure) {
    }

    record Report(List<Item> checks) implements Printable {
        @com.fasterxml.jackson.annotation.JsonProperty("status")
        public String status() {
            return checks.stream().allMatch(Item::ok) ? "ok" : "failed";
        }

        @Override
        public String toText() {
            StringBuilder sb = new StringBuilder();
            for (Item i : checks) {
                sb.append(String.format("%-7s %-14s %s%n", i.ok() ? "ok" : "FAILED", i.name(), i.detail()));
            }
            return sb.toString();
        }
    }
}
