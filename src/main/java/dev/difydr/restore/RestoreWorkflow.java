package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.Version;
import dev.difydr.config.Config;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.config.RestoreConfig;
import dev.difydr.kube.RestoreLock;
import dev.difydr.kube.Rewiring;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.source.postgres.PostgresConnector;
import dev.difydr.source.postgres.PostgresLogicalRestore;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restores a backup into Dify on Kubernetes: preflight, record, scale down, restore into fresh databases, validate,
 * [restore Redis, storage and Dify's ConfigMaps and Secrets,] rewire, scale up to the recorded replicas, smoke checks, finish — and on any failure
 * after the scale-down began, roll back. This class only sequences the steps and keeps the journal: every step is
 * journaled before and after it runs, so {@link #resume} continues an interrupted restore and {@link #rollback}
 * undoes one. The live databases are never dropped or written.
 */
public final class RestoreWorkflow {
    private static final Logger log = LoggerFactory.getLogger(RestoreWorkflow.class);

    private final Config config;
    private final KubernetesConfig kube;
    private final Repository repository;
    private final KubernetesClient client;
    private final JournalStore journals;
    private final Function<String, Progress> progress;
    private final StepListener listener;
    private final Clock clock;

    /**
     * What the operator asked for. {@code targetDatabases} holds {@code NAME} (for the main database) or
     * {@code SOURCE=NAME} entries; {@code targetHost} is {@code HOST[:PORT]}; {@code replicas} overrides recorded counts;
     * {@code with} adds {@code redis} and/or {@code storage}, whose keys are replaced and files overwritten only when
     * asked, and {@code config}, the backup's ConfigMaps and Secrets re-created where they do not exist in
     * {@code configNamespace} (Dify's namespace when null); {@code strict} turns a missing tenant private key (or an
     * unrestorable Redis key) into a failure.
     */
    public record Request(String backup, List<String> targetDatabases, String targetHost, boolean readData, Map<String, Integer> replicas,
                          Set<String> with, boolean redisReplace, boolean storageOverwrite, boolean strict, String configNamespace) {

        public Request(String backup, List<String> targetDatabases, String targetHost, boolean readData, Map<String, Integer> replicas,
                       Set<String> with, boolean redisReplace, boolean storageOverwrite, boolean strict) {
            this(backup, targetDatabases, targetHost, readData, replicas, with, redisReplace, storageOverwrite, strict, null);
        }
    }

    public RestoreWorkflow(Config config, Repository repository, KubernetesClient client, JournalStore journals,
                           Function<String, Progress> progress, StepListener listener, Clock clock) {
        if (config.postgres() == null) {
            throw new DrException(Failure.CONFIG, "restore needs the postgres section (the server Dify uses) in the configuration");
        }
        if (config.kubernetes() == null) {
            throw new DrException(Failure.CONFIG, "restore needs the kubernetes section (namespace and release of Dify); "
                    + "to restore without touching Dify, use 'dify-dr drill --keep'");
        }
        this.config = config;
        this.kube = config.kubernetes();
        this.repository = repository;
        this.client = client;
        this.journals = journals;
        this.progress = progress;
        this.listener = listener;
        this.clock = clock;
    }

    /** Preflight only: checks everything and decides every target, changing nothing. The journal is not saved. */
    public Journal plan(Request request) {
        Journal j = new Journal();
        j.id = BackupId.at(clock.instant()).value();
        j.deployment = config.deployment();
        j.toolVersion = Version.current();
        j.namespace = kube.namespace();
        j.createdAt = clock.instant();
        j.replicaOverrides.putAll(request.replicas());
        j.redisReplace = request.redisReplace();
        j.storageOverwrite = request.storageOverwrite();
        j.strict = request.strict();
        if (request.configNamespace() != null && !request.configNamespace().matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            throw new DrException(Failure.USAGE, "--config-namespace '" + request.configNamespace() + "' is not a namespace name"
                    + " (lower-case letters, digits and '-', at most 63)");
        }
        if (request.with().contains(ComponentSteps.CONFIG)) {
            j.configNamespace = request.configNamespace() != null ? request.configNamespace() : kube.namespace();
        } else if (request.configNamespace() != null) {
            throw new DrException(Failure.USAGE, "--config-namespace says where --with config re-creates the backup's ConfigMaps and Secrets:"
                    + " add --with config");
        }
        Preflight preflight = new Preflight(config, repository, client, progress, m -> components(j, m));
        new Steps(j.steps, () -> { }, listener, clock).run("preflight", () -> preflight.run(j, request));
        return j;
    }

    /** Runs a planned restore from its record step on. */
    public Journal run(Journal j) {
        lock().acquire(j.id);
        j.state = Journal.State.RUNNING;
        try {
            save(j);
        } catch (RuntimeException e) {
            release(j);
            throw e;
        }
        log.info("restore {} of backup {} started; journal: {} and {} in the repository", j.id, j.backupId,
                journals.localPath(j.id), journals.repositoryKey(j.id));
        return execute(j);
    }

    /** Continues an interrupted restore (or its interrupted rollback) from its journal. */
    public Journal resume(String restoreId) {
        Journal j = journals.load(restoreId);
        return switch (j.state) {
            case COMPLETED, ROLLED_BACK -> {
                log.info("restore {} is {}; nothing to resume", j.id, j.state.text());
                yield j;
            }
            case ROLLING_BACK, ROLLBACK_FAILED -> {
                lock().acquire(j.id);
                yield rollBack(j);
            }
            case FAILED -> throw new DrException(Failure.USAGE, "restore " + j.id + " failed before it changed anything ("
                    + j.failure + "); start a new restore instead");
            default -> {
                lock().acquire(j.id);
                j.state = Journal.State.RUNNING;
                yield execute(j);
            }
        };
    }

    /** Undoes a restore: Dify goes back to the databases and replicas recorded before it. */
    public Journal rollback(String restoreId) {
        Journal j = journals.load(restoreId);
        if (j.state == Journal.State.ROLLED_BACK) {
            log.info("restore {} is already rolled back", j.id);
            return j;
        }
        if (j.state != Journal.State.ROLLING_BACK && j.state != Journal.State.ROLLBACK_FAILED) {
            j.rollbackRequested = true;
        }
        lock().acquire(j.id);
        if (!j.began("scale-down")) {
            // Stopped before it changed anything (a crash during record): there is nothing to undo but the lock.
            j.state = Journal.State.ROLLED_BACK;
            j.finishedAt = clock.instant();
            j.rollbackFailure = null;
            warn(j, "the restore never began to scale Dify down, so nothing in Dify was changed");
            saveQuietly(j);
            release(j);
            return j;
        }
        return rollBack(j);
    }

    private Journal execute(Journal j) {
        Manifest manifest = repository.manifest(new BackupId(j.backupId));
        Steps steps = new Steps(j.steps, () -> save(j), listener, clock);
        try {
            steps.run("record", () -> record(j));
            steps.run("scale-down", () -> scaling().stop(j));
            steps.run("restore-databases", () -> databases(j, manifest).restoreAll(j.databases));
            steps.run("validate", () -> databases(j, manifest).validate(j.databases));
            if (j.components.stream().anyMatch(c -> c.kind.equals(ComponentSteps.REDIS))) {
                steps.run("restore-redis", () -> components(j, manifest).restoreRedis(j.components, j.redisReplace, j.strict, j.warnings));
            }
            if (j.components.stream().anyMatch(c -> c.kind.equals(ComponentSteps.STORAGE))) {
                steps.run("restore-storage", () -> components(j, manifest).restoreStorage(j.components, j.storageOverwrite, j.strict,
                        mainCopy(j), j.warnings));
            }
            j.components.stream().filter(c -> c.kind.equals(ComponentSteps.CONFIG)).findFirst().ifPresent(c ->
                    steps.run("restore-config", () -> new ConfigSteps(repository, manifest, client).restore(c, j.configNamespace, () -> save(j))));
            steps.run("rewire", () -> rewire(j));
            steps.run("scale-up", () -> scaling().start(j, true, Set.of()));
            steps.run("smoke-checks", () -> smoke().run(j.smoke));
            steps.run("finish", () -> {
                j.state = Journal.State.COMPLETED;
                j.finishedAt = clock.instant();
                return "Dify runs on " + j.databases.stream().map(d -> d.target).collect(Collectors.joining(", "));
            });
        } catch (RuntimeException e) {
            j.failure = e.getMessage();
            if (!j.began("scale-down")) {
                j.state = Journal.State.FAILED;
                j.finishedAt = clock.instant();
                try {
                    save(j);
                } finally {
                    release(j);
                }
                throw e;
            }
            log.error("restore {} failed: {}; rolling back", j.id, e.getMessage());
            return rollBack(j);
        }
        release(j);
        return j;
    }

    /** The record step: the same picture as preflight, read again just before anything changes. */
    private String record(Journal j) {
        var settings = new WorkloadRecord(client, kube).record(j);
        j.changes.clear();
        j.changes.addAll(EnvPlan.changes(j, settings));
        return j.workloads.stream().map(w -> w.name() + "=" + w.replicas()).collect(Collectors.joining(", "))
                + "; " + j.changes.size() + " values to change";
    }

    private String rewire(Journal j) {
        Rewiring.Result r = rewiring().apply(j.changes, true);
        if (!r.complete()) {
            throw new DrException(Failure.KUBERNETES, r.describe());
        }
        return r.describe();
    }

    private Journal rollBack(Journal j) {
        j.state = Journal.State.ROLLING_BACK;
        saveQuietly(j);
        new Rollback(rewiring(), scaling(), smoke()).run(j, new Steps(j.rollback, () -> save(j), listener, clock));
        j.finishedAt = clock.instant();
        saveQuietly(j);
        if (j.state == Journal.State.ROLLED_BACK) {
            release(j);
        }
        return j;
    }

    /** Gives up the restore lock; a failure to do so is reported, not allowed to turn a finished restore into a failed one. */
    private void release(Journal j) {
        try {
            lock().release(j.id);
        } catch (DrException e) {
            log.warn("restore {} is {}, but its lock was not released: {}", j.id, j.state.text(), e.getMessage());
        }
    }

    private void save(Journal j) {
        journals.save(j);
    }

    private void saveQuietly(Journal j) {
        try {
            save(j);
        } catch (DrException e) {
            log.error("cannot record the state of restore {}: {}", j.id, e.getMessage());
        }
    }

    static void warn(Journal j, String warning) {
        if (!j.warnings.contains(warning)) {
            j.warnings.add(warning);
        }
    }

    private DatabaseSteps databases(Journal j, Manifest m) {
        RestoreConfig r = config.restore();
        return new DatabaseSteps(repository, m, new PostgresLogicalRestore(new PostgresConnector(TargetServer.of(j).connection(config))), r.jobs(),
                Path.of(r.tempDir()), progress, () -> save(j), "restore " + j.id);
    }

    private ComponentSteps components(Journal j, Manifest m) {
        ComponentSteps.Targets targets = new ComponentSteps.Targets(config.restore().redis() != null ? config.restore().redis() : config.redis(),
                config.restore().storage(), config.storage(), true, "restore.redis (or the redis section)", "restore.storage");
        return new ComponentSteps(repository, m, targets, progress, () -> save(j), kube);
    }

    /** Where the restored main database is, for the privkeys check: its tenants must all have their key. */
    private ComponentSteps.Database mainCopy(Journal j) {
        String main = EnvPlan.mainSource(j);
        String copy = j.databases.stream().filter(d -> d.source.equals(main)).map(d -> d.target).findFirst().orElseThrow();
        return new ComponentSteps.Database(TargetServer.of(j).connection(config), copy);
    }

    private Scaling scaling() {
        return new Scaling(client, kube);
    }

    private SmokeStep smoke() {
        return new SmokeStep(config, client);
    }

    private RestoreLock lock() {
        return new RestoreLock(client, kube.namespace());
    }

    private Rewiring rewiring() {
        return new Rewiring(client, kube.namespace());
    }
}
