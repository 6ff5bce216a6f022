package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.kube.DatabaseEnv;
import dev.difydr.kube.DifyDatabases;
import dev.difydr.kube.EnvChange;
import dev.difydr.kube.EnvSource;
import dev.difydr.kube.Role;
import dev.difydr.repository.Artifact;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The values to change: each container's {@code DB_DATABASE} goes to the new copy of the database it reads now; one
 * that reads a database the backup lacks goes to the main copy (the plugin daemon to the plugin copy when there is
 * one). {@code DB_HOST}/{@code DB_PORT} follow when the copies live on another server. A value kept in one place
 * (a shared ConfigMap key) is one change, read by several Deployments.
 */
final class EnvPlan {
    private EnvPlan() {
    }

    static List<EnvChange> changes(Journal j, Map<String, List<DatabaseEnv.ContainerSettings>> settings) {
        Map<String, String> copies = j.databases.stream().collect(Collectors.toMap(d -> d.source, d -> d.target, (a, b) -> a, LinkedHashMap::new));
        String main = copies.get(mainSource(j));
        String plugin = withRole(j, DifyDatabases.PLUGIN).map(copies::get)
                .or(() -> copies.entrySet().stream().filter(e -> e.getKey().contains("plugin")).map(Map.Entry::getValue).findFirst())
                .orElse(main);
        Map<EnvSource, EnvChange> bySource = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<DatabaseEnv.ContainerSettings>> e : settings.entrySet()) {
            String deployment = e.getKey();
            Role role = Role.of(j.workloads.stream().filter(w -> w.name().equals(deployment)).findFirst().map(Journal.RecordedWorkload::role).orElse("other"));
            for (DatabaseEnv.ContainerSettings s : e.getValue()) {
                String now = s.get(DatabaseEnv.DATABASE);
                String to = copies.get(now);
                if (to == null) {
                    to = role == Role.PLUGIN_DAEMON ? plugin : main;
                    RestoreWorkflow.warn(j, "Deployment " + deployment + " container " + s.container() + " reads database '" + now
                            + "', which backup " + j.backupId + " does not hold; it will read " + to);
                }
                add(bySource, s.values().get(DatabaseEnv.DATABASE), to, deployment, problems);
                if (j.moveServer) {
                    for (String[] v : new String[][] {{DatabaseEnv.HOST, j.targetHost}, {DatabaseEnv.PORT, String.valueOf(j.targetPort)}}) {
                        DatabaseEnv.Value current = s.values().get(v[0]);
                        if (current == null) {
                            problems.add("Deployment " + deployment + " container " + s.container() + " sets no " + v[0] + " to point at "
                                    + j.targetHost + ":" + j.targetPort + ": add it to its environment");
                        } else {
                            add(bySource, current, v[1], deployment, problems);
                        }
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, String.join("; ", problems));
        }
        return bySource.values().stream().filter(c -> !c.oldValue().equals(c.newValue())).toList();
    }

    /** The source database whose copy is Dify's main database: recorded so by the backup, else guessed from the names. */
    static String mainSource(Journal j) {
        return withRole(j, DifyDatabases.MAIN).orElseGet(() -> DatabaseSteps.mainDatabase(
                j.databases.stream().map(d -> new Artifact(d.source, "postgres", d.artifact, 0, 0, null, null, null, null, null)).toList()));
    }

    private static java.util.Optional<String> withRole(Journal j, String role) {
        return j.databases.stream().filter(d -> d.roles != null && d.roles.contains(role)).map(d -> d.source).findFirst();
    }

    private static void add(Map<EnvSource, EnvChange> bySource, DatabaseEnv.Value current, String to, String deployment, List<String> problems) {
        if (current.value() == null) {
            problems.add(current.source().describe() + " does not exist (the pod could not start)");
            return;
        }
        EnvChange before = bySource.get(current.source());
        if (before == null) {
            bySource.put(current.source(), new EnvChange(current.source(), current.value(), to, new ArrayList<>(List.of(deployment))));
        } else if (!before.newValue().equals(to)) {
            problems.add(current.source().describe() + " is shared by Deployments that need different values (" + before.newValue()
                    + " and " + to + "); give them separate settings first");
        } else if (!before.deployments().contains(deployment)) {
            before.deployments().add(deployment);
        }
    }
}
