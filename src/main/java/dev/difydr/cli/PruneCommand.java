package dev.difydr.cli;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Config;
import dev.difydr.config.RetentionConfig;
import dev.difydr.repository.Repository;
import dev.difydr.repository.RepositoryLock;
import dev.difydr.retention.PruneRun;
import dev.difydr.retention.RetentionPolicy;
import java.time.Clock;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "prune", description = {"Apply the retention policy: print which backups are kept (and by which rule) and which go; "
        + "delete only with --yes. Also deletes what runs that never completed left, once older than retention.gracePeriod, "
        + "and aborts unfinished uploads as old.", "The --keep-* and --min-keep options replace the configured values key by key."})
final class PruneCommand implements Runnable {
    @ParentCommand
    Cli cli;

    @Mixin
    LockWait lockWait;

    @Option(names = "--yes", description = "Delete what the plan removes (without it, nothing is changed).")
    boolean yes;

    @Option(names = "--keep-last", paramLabel = "N", description = "Keep the N newest backups (-1: all).")
    Integer keepLast;
    @Option(names = "--keep-hourly", paramLabel = "N", description = "Keep the newest backup of each of the last N hours that have one.")
    Integer keepHourly;
    @Option(names = "--keep-daily", paramLabel = "N", description = "Keep the newest backup of each of the last N days that have one.")
    Integer keepDaily;
    @Option(names = "--keep-weekly", paramLabel = "N", description = "Keep the newest backup of each of the last N ISO weeks that have one.")
    Integer keepWeekly;
    @Option(names = "--keep-monthly", paramLabel = "N", description = "Keep the newest backup of each of the last N months that have one.")
    Integer keepMonthly;
    @Option(names = "--keep-yearly", paramLabel = "N", description = "Keep the newest backup of each of the last N years that have one.")
    Integer keepYearly;
    @Option(names = "--keep-within", paramLabel = "DURATION", description = "Keep every backup within this duration (e.g. 1y2m3d4h) of the newest.")
    String keepWithin;
    @Option(names = "--min-keep", paramLabel = "N", description = "Keep at least N backups that passed verify.")
    Integer minKeep;

    @Override
    public void run() {
        Config config = cli.loadConfig();
        RetentionConfig retention = config.retention().overriddenBy(
                new RetentionConfig(keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly, keepWithin, minKeep, null, null));
        List<String> problems = RetentionPolicy.problems("retention", retention);
        if (!problems.isEmpty()) {
            throw new DrException(Failure.USAGE, "invalid retention (configuration and options):\n  - " + String.join("\n  - ", problems));
        }
        // the plan only reads; deleting needs the repository alone
        try (Repository repository = cli.openRepository(config);
             RepositoryLock lock = yes ? cli.lock(repository, RepositoryLock.Kind.PRUNE, lockWait) : null) {
            cli.print(new PruneRun(repository, retention, Clock.systemUTC()).run(yes));
        }
    }
}
