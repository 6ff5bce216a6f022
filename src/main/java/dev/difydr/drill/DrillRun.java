package dev.difydr.drill;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.Version;
import dev.difydr.config.Config;
import dev.difydr.config.PostgresConfig;
import dev.difydr.config.RestoreConfig;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Json;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.restore.DatabaseSteps;
import dev.difydr.restore.Journal;
import dev.difydr.restore.StepListener;
import dev.difydr.restore.Steps;
import dev.difydr.smoke.SmokeChecks;
import dev.difydr.smoke.SmokeResult;
import dev.difydr.source.postgres.PostgresConnector;
import dev.difydr.source.postgres.PostgresLogicalRestore;
import dev.difydr.verify.VerifyResult;
import dev.difydr.verify.VerifyRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DR drill: restores a backup into scratch databases (on {@code drill.target}, else the {@code postgres} server)
 * without touching any workload, validates them against the manifest, optionally smoke-checks a drill Dify, measures
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

    public DrillReport run(String backup, boolean keep, boolean readData) {
        Instant started = clock.instant();
        String id = BackupId.at(started).value();
        Journal j = new Journal();
        j.id = id;
        PostgresLogicalRestore target = new PostgresLogicalRestore(new PostgresConnector(server()));
        j.targetHost = target.where();
        Steps steps = new Steps(j.steps, () -> { }, listener, clock);
        Manifest[] manifest = new Manifest[1];
        List<SmokeResult> smoke = new ArrayList<>();
        DrException failure = null;
        try {
            steps.run("preflight", () -> {
                manifest[0] = repository.resolve(backup);
                j.backupId = manifest[0].id();
                VerifyResult verified = new VerifyRun(repository, progress).run(j.backupId, readData);
                if (!verified.ok()) {
                    throw new DrException(Failure.VERIFY, "backup " + j.backupId + " fails verification: " + verified.failures().stream()
                            .map(c -> c.path() + ": " + c.detail()).collect(Collectors.joining("; ")));
                }
                String versions = target.preflight();
                String owner = config.drill().databaseOwner() != null ? config.drill().databaseOwner() : server().user();
                if (!target.roleExists(owner)) {
                    throw new DrException(Failure.SOURCE, "the scratch databases' owner '" + owner + "' (drill.databaseOwner, else the login user)"
                            + " is not a role on PostgreSQL " + target.where());
                }
                List<String> backedUp = DatabaseSteps.dumps(manifest[0]).stream().map(Artifact::name).toList();
                for (String source : config.drill().databases().keySet()) {
                    if (!backedUp.contains(source)) {
                        throw new DrException(Failure.CONFIG, "drill.databases names '" + source + "', which backup " + j.backupId
                                + " does not hold (it has " + backedUp + ")");
                    }
                }
                if (new java.util.HashSet<>(config.drill().databases().values()).size() < config.drill().databases().size()) {
                    throw new DrException(Failure.CONFIG, "drill.databases maps two databases to the same scratch name: " + config.drill().databases());
                }
                for (Artifact a : DatabaseSteps.dumps(manifest[0])) {
                    String name = config.drill().databases().getOrDefault(a.name(), a.name() + "_drill_" + id.toLowerCase(Locale.ROOT).replace("z-", "_"));
                    if (!name.matches("[A-Za-z_][A-Za-z0-9_]{0,62}")) {
                        throw new DrException(Failure.CONFIG, "scratch database name '" + name + "' must be 1-63 letters, digits or '_'");
                    }
                    j.databases.add(scratch(a, name, owner));
                }
                databases(manifest[0], target).checkFree(j.databases, "Drop it if it is a scratch copy kept by an earlier drill"
                        + " (drill --keep), or name the scratch copies differently in drill.databases");
                return "backup " + j.backupId + " verified; scratch databases on " + target.where() + " (" + versions + ")";
            });
            steps.run("restore-databases", () -> databases(manifest[0], target).restoreAll(j.databases));
            steps.run("validate", () -> databases(manifest[0], target).validate(j.databases));
            if (config.drill().smoke() != null) {
                steps.run("smoke-checks", () -> {
                    smoke.addAll(new SmokeChecks(config.drill().smoke()).run());
                    List<SmokeResult> failed = smoke.stream().filter(r -> !r.ok()).toList();
                    if (!failed.isEmpty()) {
                        throw new DrException(Failure.SMOKE, "drill Dify smoke checks failed: " + failed.stream()
                                .map(r -> r.name() + ": " + r.detail()).collect(Collectors.joining("; ")));
                    }
                    return smoke.size() + " checks passed";
                });
            }
        } catch (DrException e) {
            failure = e;
        } catch (RuntimeException e) {
            failure = new DrException(Failure.INTERNAL, "drill failed unexpectedly: " + e, e);
        }
        double rto = j.steps.stream().mapToDouble(s -> s.seconds == null ? 0 : s.seconds).sum();
        if (!keep) {
            try {
                steps.run("cleanup", () -> {
                    List<String> dropped = new ArrayList<>();
                    for (Journal.TargetDatabase d : j.databases) {
                        if (d.creating) {
                            target.drop(d.target);
                            dropped.add(d.target);
                        }
                    }
                    return dropped.isEmpty() ? "nothing to drop" : "dropped " + String.join(", ", dropped);
                });
            } catch (DrException e) {
                failure = failure == null ? e : failure;
            }
        }
        Instant finished = clock.instant();
        Long rpo = manifest[0] == null ? null : Duration.between(manifest[0].startedAt(), started).toSeconds();
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
        String jsonKey = repository.layout().drillReport(id, "json");
        String mdKey = repository.layout().drillReport(id, "md");
        String status = failure != null ? DrillReport.FAILED : missed.isEmpty() ? DrillReport.PASSED : DrillReport.THRESHOLDS_MISSED;
        DrillReport report = new DrillReport(id, config.deployment(), Version.current(), status,
                j.backupId, manifest[0] == null ? null : manifest[0].startedAt(), started, finished, j.targetHost, j.databases, keep,
                j.steps, smoke, failure == null ? Math.round(rto * 1000) / 1000.0 : null, rpo, maxRto, maxRpo, missed,
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

    private DatabaseSteps databases(Manifest m, PostgresLogicalRestore target) {
        RestoreConfig r = config.restore();
        return new DatabaseSteps(repository, m, target, r.jobs(), Path.of(r.tempDir()), progress, () -> { });
    }
}
