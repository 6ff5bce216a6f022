package dev.difydr.kube;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.KubernetesConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The databases Dify's Deployments read now: each container's {@code DB_DATABASE} as it would see it at start
 * (resolved by {@link DatabaseEnv}), with the part the database plays: {@value #MAIN} for the one api, worker and beat
 * read, {@value #PLUGIN} for the plugin daemon's. In one chart's bundled mode the plugin daemon shares the main
 * database, which then has both roles. Only {@code DB_DATABASE} is resolved, so a Secret holding just a password is
 * never read.
 */
public final class DifyDatabases {
    public static final String MAIN = "main";
    public static final String PLUGIN = "plugin";

    private DifyDatabases() {
    }

    /**
     * One database Dify reads: its roles (empty when only a Deployment of role other reads it) and its readers as
     * "role (Deployment)", e.g. {@code api (dify-api)}.
     */
    public record Database(String name, List<String> roles, List<String> readers) {
        /** "api (dify-api), worker (dify-worker) and beat (dify-worker-beat) read", or "… reads" for one reader. */
        public String readBy() {
            if (readers.size() == 1) {
                return readers.get(0) + " reads";
            }
            return String.join(", ", readers.subList(0, readers.size() - 1)) + " and " + readers.get(readers.size() - 1) + " read";
        }
    }

    /**
     * The databases in order: main first, then plugin, then any other. Fails (KUBERNETES) when Dify's Deployments
     * cannot be found or read, or when one of Dify's writers sets no {@code DB_DATABASE} (Dify's built-in default then
     * applies, which is not visible from outside the container).
     */
    public static List<Database> read(KubernetesClient client, KubernetesConfig config) {
        List<Workload> workloads = new WorkloadDiscovery(client, config, List.of(DatabaseEnv.DATABASE)).discover();
        Map<String, Set<String>> roles = new LinkedHashMap<>();
        Map<String, Set<String>> readers = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Workload w : workloads.stream().sorted(Comparator.comparing(Workload::role)).toList()) {
            if (w.database().isEmpty()) {
                if (w.role().writer()) {
                    problems.add("Deployment " + w.name() + " (" + w.role().label() + ") sets no DB_DATABASE, so Dify's built-in default"
                            + " applies, which cannot be read from Kubernetes: add DB_DATABASE to its environment");
                }
                continue;
            }
            for (DatabaseEnv.ContainerSettings s : w.database()) {
                String name = s.get(DatabaseEnv.DATABASE);
                if (name == null || name.isBlank()) {
                    problems.add(s.values().get(DatabaseEnv.DATABASE).source().describe()
                            + (name == null ? " does not exist (the pod cannot start)" : " is empty"));
                    continue;
                }
                Set<String> r = roles.computeIfAbsent(name, n -> new LinkedHashSet<>());
                switch (w.role()) {
                    case API, WORKER, BEAT -> r.add(MAIN);
                    case PLUGIN_DAEMON -> r.add(PLUGIN);
                    default -> { }
                }
                readers.computeIfAbsent(name, n -> new LinkedHashSet<>()).add(w.role().label() + " (" + w.name() + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, "cannot tell which databases Dify reads in namespace " + config.namespace()
                    + ": " + String.join("; ", problems));
        }
        List<Database> out = new ArrayList<>();
        for (String name : roles.keySet()) {
            out.add(new Database(name, List.copyOf(roles.get(name)), List.copyOf(readers.get(name))));
        }
        out.sort(Comparator.comparingInt(DifyDatabases::rank));
        return out;
    }

    private static int rank(Database d) {
        return d.roles().contains(MAIN) ? 0 : d.roles().contains(PLUGIN) ? 1 : 2;
    }
}
