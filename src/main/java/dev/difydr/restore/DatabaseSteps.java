package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.kube.DifyDatabases;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.source.postgres.DifyFacts;
import dev.difydr.source.postgres.PostgresLogicalRestore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database part shared by restore and drill: create each new database, restore its dump, and compare what it
 * holds with what the manifest recorded. Progress is written to the journal after each change, so that a resumed
 * run knows which databases it made itself.
 */
public final class DatabaseSteps {
    private static final Logger log = LoggerFactory.getLogger(DatabaseSteps.class);

    private final Repository repository;
    private final Manifest manifest;
    private final PostgresLogicalRestore target;
    private final int jobs;
    private final Path tempDir;
    private final Function<String, Progress> progress;
    private final Runnable save;
    private final String marker;

    /** {@code run} names the restore or drill ("restore 20261122T060000Z-k3m9qa"): the databases it creates carry its {@link #marker}. */
    public DatabaseSteps(Repository repository, Manifest manifest, PostgresLogicalRestore target, int jobs, Path tempDir,
                         Function<String, Progress> progress, Runnable save, String run) {
        this.repository = repository;
        this.manifest = manifest;
        this.target = target;
        this.jobs = jobs;
        this.tempDir = tempDir;
        this.progress = progress;
        this.save = save;
        this.marker = marker(run);
    }

    /** The comment a run puts on each database it creates: its proof, on resume or cleanup, that the database is its own. */
    static String marker(String run) {
        return "created by dify-dr " + run;
    }

    /** The logical dumps of a backup, refusing a backup that has none. */
    public static List<Artifact> dumps(Manifest m) {
        if (m.postgres() != null && m.postgres().isPhysical()) {
            throw new DrException(Failure.USAGE, "backup " + m.id() + " is a physical backup (pg_basebackup of the whole cluster),"
                    + " which this workflow cannot load into fresh databases: extract it with 'dify-dr restore " + m.id()
                    + " --data-directory DIR' and start PostgreSQL on that directory");
        }
        List<Artifact> dumps = m.artifacts().stream().filter(a -> "postgres".equals(a.kind())).toList();
        if (dumps.isEmpty()) {
            throw new DrException(Failure.VERIFY, "backup " + m.id() + " holds no PostgreSQL dump: nothing to restore");
        }
        return dumps;
    }

    /** Dify's main database among dumps: {@code dify} when there, else the first that is not a plugin database. */
    public static String mainDatabase(List<Artifact> dumps) {
        return dumps.stream().map(Artifact::name).filter("dify"::equals).findFirst()
                .or(() -> dumps.stream().map(Artifact::name).filter(n -> !n.contains("plugin")).findFirst())
                .orElse(dumps.get(0).name());
    }

    /** Dify's main database of a backup: the one its manifest says Dify's api read, else as {@link #mainDatabase(List)} guesses. */
    public static String mainDatabase(Manifest m) {
        return withRole(m, DifyDatabases.MAIN).orElseGet(() -> mainDatabase(dumps(m)));
    }

    /**
     * What a database of the backup was to Dify: the roles its manifest recorded (read from Dify's Deployments when
     * it was backed up), else guessed from the names: the main database, and a name with "plugin" in it.
     */
    public static List<String> roles(Manifest m, String database) {
        List<String> recorded = m.postgres() == null ? null : m.postgres().databases().stream().filter(f -> f.name().equals(database))
                .map(DatabaseFacts::roles).filter(r -> r != null && !r.isEmpty()).findFirst().orElse(null);
        if (recorded != null || m.postgres() != null && m.postgres().databases().stream().anyMatch(f -> f.roles() != null && !f.roles().isEmpty())) {
            return recorded == null ? List.of() : recorded;
        }
        return database.equals(mainDatabase(dumps(m))) ? List.of(DifyDatabases.MAIN) : database.contains("plugin") ? List.of(DifyDatabases.PLUGIN) : List.of();
    }

    private static java.util.Optional<String> withRole(Manifest m, String role) {
        return dumps(m).stream().map(Artifact::name).filter(n -> roles(m, n).contains(role)).findFirst();
    }

    /** Refuses names that exist on the target, before anything is created; {@code hint} says how to choose others. */
    public static void checkFree(PostgresLogicalRestore target, List<Journal.TargetDatabase> databases, String hint) {
        for (Journal.TargetDatabase d : databases) {
            if (!d.creating && target.exists(d.target)) {
                throw new DrException(Failure.USAGE, "database '" + d.target + "' already exists on PostgreSQL " + target.where()
                        + "; dify-dr never restores over an existing database. " + hint);
            }
        }
    }

    public String restoreAll(List<Journal.TargetDatabase> databases) {
        List<String> done = new ArrayList<>();
        for (Journal.TargetDatabase d : databases) {
            if (d.restored) {
                continue;
            }
            if (d.creating && target.exists(d.target)) {
                log.info("dropping the unfinished database '{}' left by the interrupted run that created it", d.target);
                target.dropOwn(d.target, marker, d.oid);
            }
            d.creating = true;
            d.oid = null;
            save.run();
            long start = System.nanoTime();
            d.oid = target.create(d.target, d.owner, marker);
            save.run();
            Artifact artifact = artifact(d);
            log.info("restoring {} into database '{}' on {}", d.artifact, d.target, target.where());
            PostgresLogicalRestore.Restored r;
            try (Progress p = progress.apply("restore " + d.target)) {
                r = target.restore(d.target, d.owner, new ArtifactReader(repository), manifest.id(), artifact, jobs, tempDir, p);
            }
            d.restored = true;
            d.method = r.method();
            d.jobs = r.jobs();
            d.seconds = Math.round((System.nanoTime() - start) / 1e6) / 1000.0;
            save.run();
            done.add(d.source + " -> " + d.target + " (" + r.method() + ", " + d.seconds + " s)");
        }
        return String.join("; ", done);
    }

    private Artifact artifact(Journal.TargetDatabase d) {
        return manifest.artifacts().stream().filter(a -> a.path().equals(d.artifact)).findFirst()
                .orElseThrow(() -> new DrException(Failure.VERIFY, "manifest of " + manifest.id() + " has no artifact " + d.artifact));
    }

    /**
     * Drops the databases this run created, and only those: a database that existed before (a CREATE that failed on
     * it) or that does not carry this run's marker is left alone and named in the result.
     */
    public String dropCreated(List<Journal.TargetDatabase> databases) {
        List<String> dropped = new ArrayList<>();
        List<String> left = new ArrayList<>();
        for (Journal.TargetDatabase d : databases) {
            if (!d.creating || !target.exists(d.target)) {
                continue;
            }
            try {
                target.dropOwn(d.target, marker, d.oid);
                dropped.add(d.target);
            } catch (DrException e) {
                log.warn("{}", e.getMessage());
                left.add(d.target);
            }
        }
        String out = dropped.isEmpty() ? "nothing to drop" : "dropped " + String.join(", ", dropped);
        return left.isEmpty() ? out : out + "; left alone (not created by this run): " + String.join(", ", left);
    }

    /** Compares row counts and {@code alembic_version} with the manifest; throws, naming every difference. */
    public String validate(List<Journal.TargetDatabase> databases) {
        List<String> problems = new ArrayList<>();
        List<String> ok = new ArrayList<>();
        for (Journal.TargetDatabase d : databases) {
            DatabaseFacts recorded = manifest.postgres() == null ? null : manifest.postgres().databases().stream()
                    .filter(f -> f.name().equals(d.source)).findFirst().orElse(null);
            if (recorded == null) {
                problems.add(d.target + ": the backup recorded no facts for database " + d.source);
                d.validated = false;
                continue;
            }
            List<String> diff = DifyFacts.differences(recorded, target.facts(d.target));
            d.validated = diff.isEmpty();
            if (diff.isEmpty()) {
                ok.add(d.target + ": row counts of " + recorded.rowCounts().size() + " key tables"
                        + (recorded.alembicVersion() == null ? "" : " and alembic_version " + recorded.alembicVersion()) + " match");
            } else {
                problems.add(d.target + ": " + String.join(", ", diff));
            }
        }
        save.run();
        if (!problems.isEmpty()) {
            throw new DrException(Failure.VERIFY, "restored databases differ from the backup: " + String.join("; ", problems));
        }
        return String.join("; ", ok);
    }
}
