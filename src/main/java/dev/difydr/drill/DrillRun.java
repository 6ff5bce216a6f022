package dev.difydr.drill;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.Version;
import dev.difydr.config.Config;
import dev.difydr.config.PostgresConfig;
import dev.difydr.config.RestoreConfig;
import dev.difydr.kube.ClusterClient;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Json;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.restore.ComponentSteps;
import dev.difydr.restore.ConfigSteps;
import dev.difydr.restore.DatabaseSteps;
import dev.difydr.restore.Journal;
import dev.difydr.restore.StepListener;
import dev.difydr.restore.TargetNames;
import dev.difydr.restore.Steps;
import dev.difydr.smoke.SmokeChecks;
import dev.difydr.smoke.SmokeResult;
import dev.difydr.source.postgres.PostgresConnector;
import dev.difydr.source.postgres.PostgresLogicalRestore;
import dev.difydr.verify.VerifyResult;
import dev.difydr.verify.VerifyRun;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DR drill: restores a backup into scratch databases (on {@code drill.target}, else the {@code postgres} server)
 * without touching any workload, validates them against the manifest, [restores Redis and file storages into scratch
 * targets and Dify's ConfigMaps and Secrets into {@code drill.namespace},] optionally smoke-checks a drill Dify, measures
 * RTO and RPO, writes the report to the repository and drops the scratch databases unless asked to keep them.
 */
public final class DrillRun {
    private static final Logger log = LoggerFactory.getLogger(DrillRun.class);

    private final Config config;
    private final Repository repository;
    private final Function<String, Progress> progress;
    private final StepListener listener;
    private final Clock clock;

    public DrillRun(Config config, Repository repository, Function<String, Progress> progress, StepListener listener, Clock clock) {
        if (config.postgres() == null && (config.drill().target() == null || config.drill().target().host() == null)) {
            throw new DrException(Failure.CONFIG, "drill needs a PostgreSQL server to restore into: the postgres section or drill.target");
        }
        this.config = config;
        this.repository = repository;
        this.progress = progress;
        this.listener = listener;
        this.clock = clock;
    }

    /** {@code strict}: a tenant's missing private key or an unrestorable Redis key fails the drill. */
    public DrillReport run(String backup, boolean keep, boolean readData, boolean strict) {
        Attempt a = new Attempt(clock.instant());
        Steps steps = new Steps(a.journal.steps, () -> { }, listener, clock);
        DrException failure = null;
        try {
            steps.run("preflight", () -> a.preflight(backup, readData));
            steps.run("restore-databases", () -> a.databases().restoreAll(a.journal.databases));
            steps.run("validate", () -> a.databases().validate(a.journal.databases));
            if (a.has(ComponentSteps.REDIS)) {
                steps.run("restore-redis", () -> a.components().restoreRedis(a.journal.components, false, strict, a.journal.warnings));
            }
            if (a.has(ComponentSteps.STORAGE)) {
                steps.run("restore-storage", () -> a.components().restoreStorage(a.journal.components, false, strict, a.mainCopy(),
                        a.journal.warnings));
            }
            if (a.has(ComponentSteps.CONFIG)) {
                steps.run("restore-config", () -> a.config().restore(a.component(ComponentSteps.CONFIG), config.drill().namespace(), () -> { }));
            }
            if (config.drill().smoke() != null) {
                steps.run("smoke-checks", a::smoke);
            }
        } catch (DrException e) {
            failure = e;
        } catch (RuntimeException e) {
            failure = new DrException(Failure.INTERNAL, "drill failed unexpectedly: " + e, e);
        }
        double rto = a.journal.steps.stream().mapToDouble(s -> s.seconds == null ? 0 : s.seconds).sum();
        if (!keep) {
            try {
                steps.run("cleanup", () -> a.databases().dropCreated(a.journal.databases) + a.components().emptyScratch(a.journal.components)
                        + (a.has(ComponentSteps.CONFIG) ? a.config().remove(a.component(ComponentSteps.CONFIG), config.drill().namespace()) : ""));
            } catch (DrException e) {
                failure = failure == null ? e : failure;
            }
        }
        a.close();
        return a.report(failure, rto, keep);
    }

    /** One drill's state, from its id to its report. */
    private final class Attempt {
        final Instant started;
        final String id;
        final Journal journal = new Journal();
        final PostgresLogicalRestore target = new PostgresLogicalRestore(new PostgresConnector(server()));
        final List<SmokeResult> smoke = new ArrayList<>();
        final List<String> notDrilled = new ArrayList<>();
        Manifest manifest;
        KubernetesClient client;

        Attempt(Instant started) {
            this.started = started;
            this.id = BackupId.at(started).value();
            journal.id = id;
            journal.targetHost = target.where();
        }

        String preflight(String backup, boolean readData) {
            manifest = repository.resolve(backup);
            journal.backupId = manifest.id();
            // A size check does not tell whether these artifacts can be decrypted here: refuse before anything is created.
            ArtifactReader reader = new ArtifactReader(repository);
            manifest.artifacts().forEach(reader::requireReadable);
            VerifyResult verified = new VerifyRun(repository, progress).run(manifest.id(), readData);
            if (!verified.ok()) {
                throw new DrException(Failure.VERIFY, "backup " + manifest.id() + " fails verification: " + verified.failures().stream()
                        .map(c -> c.path() + ": " + c.detail()).collect(Collectors.joining("; ")));
            }
            String versions = target.preflight();
            String owner = config.drill().databaseOwner() != null ? config.drill().databaseOwner() : server().user();
            if (!target.roleExists(owner)) {
                throw new DrException(Failure.SOURCE, "the scratch databases' owner '" + owner + "' (drill.databaseOwner, else the login user)"
                        + " is not a role on PostgreSQL " + target.where());
            }
            Map<String, String> names = config.drill().databases();
            List<Artifact> dumps = DatabaseSteps.dumps(manifest);
            for (String source : names.keySet()) {
                if (dumps.stream().noneMatch(d -> d.name().equals(source))) {
                    throw new DrException(Failure.CONFIG, "drill.databases names '" + source + "', which backup " + manifest.id()
                            + " does not hold (it has " + dumps.stream().map(Artifact::name).toList() + ")");
                }
            }
            if (new HashSet<>(names.values()).size() < names.size()) {
                throw new DrException(Failure.CONFIG, "drill.databases maps two databases to the same scratch name: " + names);
            }
            for (Artifact dump : dumps) {
                String name = names.getOrDefault(dump.name(), TargetNames.copyName(dump.name(), "drill", id));
                if (!name.matches("[A-Za-z_][A-Za-z0-9_]{0,62}")) {
                    throw new DrException(Failure.CONFIG, "scratch database name '" + name + "' must be 1-63 letters, digits or '_'");
                }
                journal.databases.add(scratch(dump, name, owner));
            }
            DatabaseSteps.checkFree(target, journal.databases, "Drop it if it is a scratch copy kept by an earlier drill"
                    + " (drill --keep), or name the scratch copies differently in drill.databases");
            java.util.Set<String> with = new java.util.LinkedHashSet<>();
            for (String[] kind : new String[][] {{ComponentSteps.REDIS, "drill.redis"}, {ComponentSteps.STORAGE, "drill.storage"}}) {
                boolean inBackup = manifest.artifacts().stream().anyMatch(x -> x.kind().equals(kind[0]));
                boolean target = kind[0].equals(ComponentSteps.REDIS) ? config.drill().redis() != null : !config.drill().storage().isEmpty();
                if (target) {
                    with.add(kind[0]);
                } else if (inBackup) {
                    notDrilled.add(kind[0] + " (set " + kind[1] + " to a scratch target to drill it)");
                }
            }
            journal.components.addAll(components().plan(with));
            components().preflightScratch(journal.components);
            String namespace = config.drill().namespace();
            boolean configInBackup = ConfigSteps.artifact(manifest).isPresent();
            if (namespace != null) {
                if (!configInBackup) {
                    throw new DrException(Failure.VERIFY, "backup " + manifest.id() + " holds no Kubernetes configuration (it is backed up"
                            + " only with encryption.keyset); remove drill.namespace from the configuration to drill the rest");
                }
                journal.components.add(config().plan(namespace, true));
            } else if (configInBackup) {
                notDrilled.add("config (set drill.namespace to a scratch namespace to drill it)");
            }
            return "backup " + manifest.id() + " verified; scratch databases on " + target.where() + " (" + versions + ")";
        }

        DatabaseSteps databases() {
            RestoreConfig r = config.restore();
            return new DatabaseSteps(repository, manifest, target, r.jobs(), Path.of(r.tempDir()), progress, () -> { }, "drill " + id);
        }

        ConfigSteps config() {
            if (client == null) {
                client = ClusterClient.connect(config.drill().namespace());
            }
            return new ConfigSteps(repository, manifest, client);
        }

        Journal.ComponentTarget component(String kind) {
            return journal.components.stream().filter(c -> c.kind.equals(kind)).findFirst().orElseThrow();
        }

        void close() {
            if (client != null) {
                client.close();
            }
        }

        boolean has(String kind) {
            return journal.components.stream().anyMatch(c -> c.kind.equals(kind));
        }

        ComponentSteps components() {
            return new ComponentSteps(repository, manifest, new ComponentSteps.Targets(config.drill().redis(), config.drill().storage(),
                    config.storage(), false, "drill.redis", "drill.storage"), progress, () -> { }, config.kubernetes());
        }

        /** The scratch copy of Dify's main database, whose tenants must all have their private key in the restored storage. */
        ComponentSteps.Database mainCopy() {
            return new ComponentSteps.Database(server(), journal.databases.stream().filter(d -> d.source.equals(DatabaseSteps.mainDatabase(manifest)))
                    .map(d -> d.target).findFirst().orElseThrow());
        }

        String smoke() {
            smoke.addAll(new SmokeChecks(config.drill().smoke()).run());
            List<SmokeResult> failed = smoke.stream().filter(r -> !r.ok()).toList();
            if (!failed.isEmpty()) {
                throw new DrException(Failure.SMOKE, "drill Dify smoke checks failed: " + failed.stream()
                        .map(r -> r.name() + ": " + r.detail()).collect(Collectors.joining("; ")));
            }
            return smoke.size() + " checks passed";
        }

        DrillReport report(DrException failure, double rto, boolean keep) {
            Long rpo = manifest == null ? null : Duration.between(manifest.startedAt(), started).toSeconds();
            List<String> missed = new ArrayList<>();
            Long maxRto = config.drill().maxRtoSeconds();
            Long maxRpo = config.drill().maxRpoSeconds();
            if (failure == null && maxRto != null && rto > maxRto) {
                missed.add(String.format("RTO %.1f s exceeds drill.maxRtoSeconds %d", rto, maxRto));
            }
            if (rpo != null && maxRpo != null && rpo > maxRpo) {
                missed.add("RPO " + rpo + " s exceeds drill.maxRpoSeconds " + maxRpo + ": the newest backup is too old");
            }
            int exit = failure != null ? failure.failure().exitCode() : missed.isEmpty() ? 0 : Failure.DRILL_THRESHOLD.exitCode();
            String status = failure != null ? DrillReport.FAILED : missed.isEmpty() ? DrillReport.PASSED : DrillReport.THRESHOLDS_MISSED;
            String jsonKey = repository.layout().drillReport(id, "json");
            String mdKey = repository.layout().drillReport(id, "md");
            DrillReport report = new DrillReport(id, config.deployment(), Version.current(), status, journal.backupId,
                    manifest == null ? null : manifest.startedAt(), started, clock.instant(), journal.targetHost, journal.databases,
                    journal.components, notDrilled, journal.warnings, keep,
                    journal.steps, smoke, failure == null ? Math.round(rto * 1000) / 1000.0 : null, rpo, maxRto, maxRpo, missed,
                    failure == null ? null : failure.getMessage(), jsonKey, mdKey, exit);
            try {
                repository.store().put(jsonKey, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
                repository.store().put(mdKey, report.markdown().getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new DrException(Failure.INTERNAL, "cannot serialise the drill report", e);
            }
            log.info("drill {} {}: report at {}", id, report.status(), jsonKey);
            return report;
        }
    }

    private static Journal.TargetDatabase scratch(Artifact a, String name, String owner) {
        Journal.TargetDatabase d = new Journal.TargetDatabase();
        d.source = a.name();
        d.target = name;
        d.owner = owner;
        d.artifact = a.path();
        d.plainBytes = a.plainBytes();
        return d;
    }

    private PostgresConfig server() {
        RestoreConfig.PostgresTarget t = config.drill().target();
        return t == null ? config.postgres() : t.over(config.postgres());
    }
}
