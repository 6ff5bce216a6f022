package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Config;
import dev.difydr.config.PostgresConfig;
import dev.difydr.kube.ConfigSnapshot;
import dev.difydr.kube.DatabaseEnv;
import dev.difydr.kube.Permissions;
import dev.difydr.kube.RestoreLock;
import dev.difydr.kube.Rewiring;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.source.postgres.PostgresConnector;
import dev.difydr.source.postgres.PostgresLogicalRestore;
import dev.difydr.verify.VerifyResult;
import dev.difydr.verify.VerifyRun;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The preflight step: checks everything a restore will rely on and decides every target, changing nothing. Every
 * artifact the restore will read is read end to end here (stored SHA-256, decompression, plain length), before any
 * writer stops or any live target is written.
 */
final class Preflight {
    private static final Logger log = LoggerFactory.getLogger(Preflight.class);

    private final Config config;
    private final Repository repository;
    private final KubernetesClient client;
    private final Function<String, Progress> progress;
    private final Function<Manifest, ComponentSteps> components;

    Preflight(Config config, Repository repository, KubernetesClient client, Function<String, Progress> progress,
              Function<Manifest, ComponentSteps> components) {
        this.config = config;
        this.repository = repository;
        this.client = client;
        this.progress = progress;
        this.components = components;
    }

    String run(Journal j, RestoreWorkflow.Request request) {
        String namespace = config.kubernetes().namespace();
        Manifest m = repository.resolve(request.backup());
        List<Artifact> dumps = DatabaseSteps.dumps(m); // a physical backup is refused here, before anything else is checked
        j.backupId = m.id();
        TargetServer server = TargetServer.resolve(config, request.targetHost());
        server.recordIn(j);
        PostgresConfig target = server.connection(config);
        PostgresLogicalRestore restore = new PostgresLogicalRestore(new PostgresConnector(target));
        String versions = restore.preflight();

        List<String> missing = new Permissions(client, namespace).missingForRestore();
        if (!missing.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, "dify-dr may not " + String.join(", ", missing) + " in namespace " + namespace
                    + "; grant them (the Role in runbooks/incident-restore.md) before restoring");
        }
        new RestoreLock(client, namespace).checkFree();
        Map<String, List<DatabaseEnv.ContainerSettings>> settings = new WorkloadRecord(client, config.kubernetes()).record(j);
        String owner = owner(settings);
        if (!restore.roleExists(owner)) {
            throw new DrException(Failure.SOURCE, "role '" + owner + "' (Dify's database user) does not exist on PostgreSQL "
                    + restore.where() + ": create it there first, or set restore.databaseOwner");
        }
        DifyLogin.check(settings, target, j);
        j.databases.clear();
        Map<String, String> names = TargetNames.of(m, request.targetDatabases());
        for (Artifact a : dumps) {
            j.databases.add(new Journal.TargetDatabase(a.name(), names.get(a.name()), owner, a.path(), a.plainBytes(),
                    DatabaseSteps.roles(m, a.name())));
        }
        ComponentSteps parts = components.apply(m);
        j.components.clear();
        j.components.addAll(parts.plan(request.with()));
        PodTargetCheck.check(j, parts.targets(), client, namespace);
        parts.preflight(j.components, j.redisReplace, j.warnings);
        if (request.with().contains(ComponentSteps.CONFIG)) {
            j.components.add(new ConfigSteps(repository, m, client).plan(j.configNamespace, false));
        }
        DatabaseSteps.checkFree(restore, j.databases, "Name the new copies with --target-database SOURCE=NAME (once per database,"
                + " e.g. --target-database dify=dify_r2 --target-database dify_plugin=dify_plugin_r2), or drop the existing one"
                + " if it is an unused copy from an earlier restore");
        j.changes.clear();
        j.changes.addAll(EnvPlan.changes(j, settings));
        List<String> obstacles = new Rewiring(client, namespace).obstacles(j.changes);
        if (!obstacles.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, String.join("; ", obstacles));
        }
        warnAboutAutoscalers(j, namespace);
        for (String name : request.replicas().keySet()) {
            if (j.workloads.stream().noneMatch(w -> w.name().equals(name))) {
                throw new DrException(Failure.USAGE, "--replicas names " + name + ", which is not among the Deployments this restore stops: "
                        + j.workloads.stream().map(Journal.RecordedWorkload::name).toList());
            }
        }
        compareSchema(j, m, settings);
        compareConfig(j, m);
        j.smokeChecks.clear();
        j.smokeChecks.addAll(new SmokeStep(config, client).describe());
        if (j.smokeChecks.isEmpty()) {
            RestoreWorkflow.warn(j, "no smoke checks configured (smoke.api, smoke.pluginDaemon): success will only mean the rollouts became ready");
        }
        verify(m, j, request.readData());
        return "backup " + m.id() + " verified (" + (request.readData() ? "every byte re-read" : "every byte this restore uses re-read, the rest by size")
                + "); target " + restore.where() + " (" + versions + "); " + j.workloads.size() + " Deployments to stop; "
                + j.changes.size() + " values to change";
    }

    /**
     * Reads every artifact the restore will use, end to end; the others by size unless {@code readAll}. Last, because
     * it is the slowest check: a refusal found by the others comes first.
     */
    private void verify(Manifest m, Journal j, boolean readAll) {
        Set<String> used = new LinkedHashSet<>();
        j.databases.forEach(d -> used.add(d.artifact));
        j.components.forEach(c -> used.add(c.artifact));
        VerifyResult verified = new VerifyRun(repository, progress).run(m, a -> readAll || used.contains(a.path()));
        if (!verified.ok()) {
            throw new DrException(Failure.VERIFY, "backup " + m.id() + " fails verification, refusing to restore it: "
                    + verified.failures().stream().map(c -> c.path() + ": " + c.detail()).collect(Collectors.joining("; ")));
        }
    }

    private String owner(Map<String, List<DatabaseEnv.ContainerSettings>> settings) {
        if (config.restore().databaseOwner() != null) {
            return config.restore().databaseOwner();
        }
        Set<String> users = settings.values().stream().flatMap(List::stream).map(s -> s.get(DatabaseEnv.USERNAME))
                .filter(u -> u != null && !u.isBlank()).collect(Collectors.toCollection(LinkedHashSet::new));
        if (users.size() > 1) {
            throw new DrException(Failure.CONFIG, "Dify's workloads use different database users " + users
                    + ": set restore.databaseOwner to the one that should own the restored databases");
        }
        return users.isEmpty() ? config.postgres().user() : users.iterator().next();
    }

    private void warnAboutAutoscalers(Journal j, String namespace) {
        try {
            for (var hpa : client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(namespace).list().getItems()) {
                var target = hpa.getSpec() == null ? null : hpa.getSpec().getScaleTargetRef();
                if (target != null && j.workloads.stream().anyMatch(w -> w.name().equals(target.getName()))) {
                    RestoreWorkflow.warn(j, "HorizontalPodAutoscaler " + hpa.getMetadata().getName() + " scales " + target.getName()
                            + ": it rests while the Deployment is at 0 and resumes after the scale-up; the wait follows whatever count it sets");
                }
            }
        } catch (KubernetesClientException e) {
            log.debug("cannot list HorizontalPodAutoscalers: {}", e.getMessage());
        }
    }

    /**
     * Compares SECRET_KEY, DB_* and REDIS_* of Dify's containers now with the backup's, by name, and warns loudly
     * when SECRET_KEY changed. A backup without its configuration, or one that cannot be read, is a warning.
     */
    private void compareConfig(Journal j, Manifest m) {
        j.configComparison.clear();
        if (ConfigSteps.artifact(m).isEmpty()) {
            return;
        }
        ConfigDrift.Result drift;
        try {
            drift = ConfigDrift.compare(new ConfigSteps(repository, m, client).read(), ConfigSnapshot.collect(client, config.kubernetes()));
        } catch (DrException e) {
            RestoreWorkflow.warn(j, "cannot compare Dify's SECRET_KEY, DB_* and REDIS_* settings with the backup's (" + e.getMessage() + ")");
            return;
        }
        j.configComparison.addAll(drift.lines());
        if (drift.secretKeyChanged()) {
            String warning = "SECRET_KEY DIFFERS FROM BACKUP " + m.id() + " (" + String.join(", ", drift.secretKeyChangedIn()) + "): Dify signs"
                    + " sessions and file URLs and encrypts system OAuth parameters with it, so on the restored data every user is logged out,"
                    + " signed file URLs stop working and those OAuth parameters cannot be decrypted. Put the backed-up SECRET_KEY back before"
                    + " Dify starts on the restored data (restore --with config --config-namespace NS re-creates the backed-up Secrets in NS"
                    + " to copy it from), or accept that";
            log.warn(warning);
            RestoreWorkflow.warn(j, warning);
        }
    }

    /** Warns when the backup's schema revision differs from the live database's (the running Dify image's). */
    private void compareSchema(Journal j, Manifest m, Map<String, List<DatabaseEnv.ContainerSettings>> settings) {
        String backup = m.postgres() == null ? null : m.postgres().databases().stream().map(DatabaseFacts::alembicVersion)
                .filter(v -> v != null).findFirst().orElse(null);
        String liveDb = settings.values().stream().flatMap(List::stream).map(s -> s.get(DatabaseEnv.DATABASE)).findFirst().orElse(null);
        if (backup == null || liveDb == null) {
            return;
        }
        try {
            String live = new PostgresLogicalRestore(new PostgresConnector(config.postgres())).alembicVersion(liveDb);
            if (live != null && !live.equals(backup)) {
                RestoreWorkflow.warn(j, "the backup's schema revision (alembic_version " + backup + ") differs from the live database " + liveDb
                        + " (" + live + "): a newer Dify image migrates the restored copy on start when MIGRATION_ENABLED is true;"
                        + " an older backup on a newer image is fine, a newer backup on an older image is not — run the image the backup was taken with");
            }
        } catch (DrException e) {
            RestoreWorkflow.warn(j, "cannot read the live database's schema revision to compare with the backup's (" + e.getMessage() + ")");
        }
    }
}
