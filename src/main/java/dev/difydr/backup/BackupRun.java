package dev.difydr.backup;

import dev.difydr.DrException;
import dev.difydr.ErrorReport;
import dev.difydr.Failure;
import dev.difydr.Version;
import dev.difydr.config.Config;
import dev.difydr.config.PostgresConfig;
import dev.difydr.pipeline.ArtifactPipeline;
import dev.difydr.pipeline.Bytes;
import dev.difydr.pipeline.Progress;
import dev.difydr.pipeline.Stored;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.PostgresFacts;
import dev.difydr.repository.Repository;
import dev.difydr.source.ChildProcess;
import dev.difydr.source.postgres.PostgresLogicalSource;
import dev.difydr.store.Upload;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backup set: every configured database dumped, compressed, hashed and stored, then the manifest. Any failure
 * of a required part leaves no manifest, so the run never counts as a backup.
 */
public final class BackupRun {
    private static final Logger log = LoggerFactory.getLogger(BackupRun.class);
    private static final Executor FACTS = r -> {
        Thread t = new Thread(r, "postgres-facts");
        t.setDaemon(true);
        t.start();
    };

    private final Config config;
    private final Repository repository;
    private final Function<String, Progress> progress;
    private final Clock clock;

    public BackupRun(Config config, Repository repository, Function<String, Progress> progress, Clock clock) {
        this.config = config;
        this.repository = repository;
        this.progress = progress;
        this.clock = clock;
    }

    public BackupResult run() {
        Instant started = clock.instant();
        BackupId id = BackupId.at(started);
        List<Artifact> artifacts = new ArrayList<>();
        List<Manifest.Skipped> skipped = new ArrayList<>();
        log.info("backup {} of deployment '{}' to {}", id, config.deployment(), repository.store().describe());
        try {
            if (config.postgres() == null) {
                throw new DrException(Failure.CONFIG, "nothing to back up: the configuration has no 'postgres' section");
            }
            repository.store().check();
            PostgresFacts facts = backupPostgres(id, config.postgres(), artifacts, skipped);
            Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, id.value(), config.deployment(), Version.current(),
                    Manifest.COMPLETED, started, clock.instant(), List.copyOf(artifacts), skipped.isEmpty() ? null : List.copyOf(skipped), facts);
            repository.commit(manifest);
            log.info("backup {} completed: {} artifacts, {} stored", id, artifacts.size(), Bytes.human(manifest.storedBytes()));
            return result(id, Manifest.COMPLETED, started, artifacts, skipped, null);
        } catch (DrException e) {
            log.error("backup {} failed: {}", id, e.getMessage());
            return result(id, BackupResult.FAILED, started, artifacts, skipped, e);
        } catch (RuntimeException e) {
            log.error("backup {} failed", id, e);
            return result(id, BackupResult.FAILED, started, artifacts, skipped, new DrException(Failure.INTERNAL, e.toString(), e));
        }
    }

    private BackupResult result(BackupId id, String status, Instant started, List<Artifact> artifacts,
                                List<Manifest.Skipped> skipped, DrException error) {
        double seconds = Duration.between(started, clock.instant()).toMillis() / 1000.0;
        return new BackupResult(id.value(), status, repository.store().describe(), List.copyOf(artifacts),
                skipped.isEmpty() ? null : List.copyOf(skipped), seconds,
                error == null ? null : ErrorReport.of(error.failure(), error));
    }

    private PostgresFacts backupPostgres(BackupId id, PostgresConfig pg, List<Artifact> artifacts, List<Manifest.Skipped> skipped) {
        PostgresLogicalSource source = new PostgresLogicalSource(pg);
        try (PostgresLogicalSource.Preflight preflight = source.preflight()) {
            for (String missing : preflight.missingOptional()) {
                log.warn("optional database '{}' does not exist on {}: skipped", missing, source.where());
                skipped.add(new Manifest.Skipped("postgres", missing, "database does not exist"));
            }
            List<DatabaseFacts> databases = new ArrayList<>();
            for (String db : preflight.databases()) {
                try (PostgresLogicalSource.Snapshot snapshot = preflight.snapshot(db)) {
                    // The facts are read in the dump's snapshot while the dump streams, so they cost no extra wall time.
                    CompletableFuture<DatabaseFacts> facts = CompletableFuture.supplyAsync(snapshot::facts, FACTS);
                    artifacts.add(dumpOne(id, source, db, snapshot.id()));
                    databases.add(join(facts));
                }
            }
            return new PostgresFacts(pg.host(), pg.port(), preflight.serverVersion(), preflight.pgDumpVersion(), databases);
        }
    }

    private static DatabaseFacts join(CompletableFuture<DatabaseFacts> facts) {
        try {
            return facts.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private Artifact dumpOne(BackupId id, PostgresLogicalSource source, String database, String snapshotId) {
        String key = repository.layout().postgresDump(id, database);
        ArtifactPipeline pipeline = new ArtifactPipeline(config.compression());
        log.info("dumping database '{}' to {}", database, key);
        try (ChildProcess dump = source.dump(database, snapshotId);
             Upload upload = repository.store().create(key);
             Progress p = progress.apply(database)) {
            // Stopped by a signal (a CronJob deadline, Ctrl-C): kill pg_dump and abort the upload, leave nothing pending.
            Thread onShutdown = new Thread(() -> {
                log.error("backup {} stopped by a signal: killing pg_dump and aborting the upload of {}; no manifest is written", id, key);
                dump.close();
                upload.abort();
            }, "abort-on-shutdown");
            Runtime.getRuntime().addShutdownHook(onShutdown);
            Stored stored;
            try {
                stored = pipeline.run(dump.stdout(), upload, p);
                dump.finish();
                commit(upload, key);
            } catch (IOException e) {
                // A dump that dies ends the stream (and is reported by finish()); an exception here is the store's.
                throw new DrException(Failure.STORE, "storing the dump of '" + database + "' failed: " + e.getMessage(), e);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(onShutdown);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or has run
                }
            }
            return new Artifact(database, "postgres", key, stored.plainBytes(), stored.storedBytes(), stored.storedSha256(),
                    stored.plainSha256(), stored.compression(), "none");
        }
    }

    private void commit(Upload upload, String key) {
        try {
            upload.commit();
        } catch (IOException e) {
            throw new DrException(Failure.STORE, "completing " + key + " failed: " + e.getMessage(), e);
        }
    }
}
