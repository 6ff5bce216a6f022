package dev.difydr.backup;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.DatabaseSelection;
import dev.difydr.config.DatabaseSpec;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.config.PostgresConfig;
import dev.difydr.kube.ClusterClient;
import dev.difydr.kube.DifyDatabases;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The databases a PostgreSQL backup covers, and what Kubernetes says about them.
 * <ul>
 *   <li>{@code postgres.databases: fromDify}: the databases Dify's Deployments read now (main, then plugin). If they
 *       cannot be read the backup fails: it cannot know what to back up, and the previous list may be Dify's old,
 *       no longer used databases.</li>
 *   <li>A list, with a {@code kubernetes} section: the list as configured, compared with what Dify reads; each
 *       database Dify reads that the list lacks is a warning. A cluster that cannot be read is a warning too, and the
 *       list is backed up as configured: a backup never fails because the Kubernetes API is down.</li>
 *   <li>A list without a {@code kubernetes} section: the list, nothing compared.</li>
 * </ul>
 * The databases Dify reads get their roles, for the manifest, so that a restore knows which one is main.
 */
final class BackupDatabases {
    private static final Logger log = LoggerFactory.getLogger(BackupDatabases.class);

    private final List<DatabaseSpec> databases;
    private final Map<String, List<String>> roles;
    private final List<String> warnings;

    private BackupDatabases(List<DatabaseSpec> databases, Map<String, List<String>> roles, List<String> warnings) {
        this.databases = List.copyOf(databases);
        this.roles = Map.copyOf(roles);
        this.warnings = List.copyOf(warnings);
    }

    /**
     * Chooses the databases. {@code compare}: whether a list should be checked against Dify's databases (not for a
     * physical backup, which copies every database of the server anyway).
     */
    static BackupDatabases choose(PostgresConfig postgres, KubernetesConfig kubernetes, boolean compare) {
        DatabaseSelection selection = postgres.databases();
        if (selection.isFromDify()) {
            List<DifyDatabases.Database> dify;
            try {
                dify = read(kubernetes);
            } catch (DrException | KubernetesClientException e) {
                throw new DrException(Failure.KUBERNETES, "postgres.databases is " + DatabaseSelection.FROM_DIFY + ", but the databases"
                        + " Dify reads cannot be read from Kubernetes: " + e.getMessage()
                        + ". Fix the access (the backup needs get/list on deployments and get on configmaps, and on secrets that hold"
                        + " DB_DATABASE) or list the databases in postgres.databases");
            }
            log.info("postgres.databases is {}: {}", DatabaseSelection.FROM_DIFY,
                    dify.stream().map(d -> "'" + d.name() + "' (" + d.readBy() + " it)").collect(Collectors.joining(", ")));
            return new BackupDatabases(dify.stream().map(d -> new DatabaseSpec(d.name(), false)).toList(), roles(dify), List.of());
        }
        List<DatabaseSpec> listed = selection.list();
        if (kubernetes == null) {
            return new BackupDatabases(listed, Map.of(), List.of());
        }
        List<DifyDatabases.Database> dify;
        try {
            dify = read(kubernetes);
        } catch (DrException | KubernetesClientException e) {
            if (!compare) {
                log.info("cannot read from Kubernetes which databases Dify reads ({}): the manifest records no roles", e.getMessage());
                return new BackupDatabases(listed, Map.of(), List.of());
            }
            String warning = "cannot read from Kubernetes which databases Dify reads (" + e.getMessage() + "), so this backup cannot check"
                    + " postgres.databases against them; backing up the configured " + names(listed);
            return new BackupDatabases(listed, Map.of(), List.of(warning));
        }
        List<String> warnings = new ArrayList<>();
        if (compare) {
            for (DifyDatabases.Database d : dify) {
                if (listed.stream().noneMatch(s -> d.name().equals(s.name()))) {
                    warnings.add("Dify's " + d.readBy() + " database '" + d.name() + "', which this backup does not include (it backs up "
                            + names(listed) + "): set postgres.databases: " + DatabaseSelection.FROM_DIFY + ", or add '" + d.name()
                            + "' to the list");
                }
            }
            for (DatabaseSpec s : listed) {
                if (dify.stream().noneMatch(d -> d.name().equals(s.name()))) {
                    log.info("postgres.databases names '{}', which none of Dify's Deployments reads now", s.name());
                }
            }
        }
        return new BackupDatabases(listed, roles(dify), warnings);
    }

    /** Dify's databases; a failure names the API server, which the client's own messages rarely do. */
    private static List<DifyDatabases.Database> read(KubernetesConfig kubernetes) {
        try (KubernetesClient client = ClusterClient.connect(kubernetes)) {
            try {
                return DifyDatabases.read(client, kubernetes);
            } catch (DrException | KubernetesClientException e) {
                throw new DrException(Failure.KUBERNETES, "API server " + client.getMasterUrl() + ": " + oneLine(e));
            }
        }
    }

    /** The failure and its causes on one line: the client's own message rarely names the address it could not reach. */
    private static String oneLine(RuntimeException e) {
        return DrException.describe(e).replace("\n  caused by: ", ": ");
    }

    private static Map<String, List<String>> roles(List<DifyDatabases.Database> dify) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        dify.forEach(d -> out.put(d.name(), d.roles()));
        return out;
    }

    private static String names(List<DatabaseSpec> listed) {
        return listed.stream().map(DatabaseSpec::name).collect(Collectors.joining(", ", "[", "]"));
    }

    /** The databases to back up, in order. */
    List<DatabaseSpec> databases() {
        return databases;
    }

    /** A database's roles for Dify ({@code main}, {@code plugin}); empty when unknown. */
    List<String> roles(String database) {
        return roles.getOrDefault(database, List.of());
    }

    /** What the choice found worth an operator's attention. */
    List<String> warnings() {
        return warnings;
    }
}
