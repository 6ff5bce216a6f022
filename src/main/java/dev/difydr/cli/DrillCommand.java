package dev.difydr.cli;

import dev.difydr.config.Config;
import dev.difydr.drill.DrillReport;
import dev.difydr.drill.DrillRun;
import dev.difydr.repository.Repository;
import dev.difydr.repository.RepositoryLock;
import dev.difydr.restore.StepListener;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "drill", description = {
        "Prove a backup restores, without touching Dify: restore into scratch",
        "databases (and drill.redis / drill.storage), validate, check privkeys,",
        "smoke-check a drill Dify if configured, measure RTO and RPO, write",
        "report.json and report.md to drills/<id>/ in the repository, drop the",
        "scratch copies. See runbooks/quarterly-dr-drill.md."})
final class DrillCommand implements Callable<Integer> {
    @ParentCommand
    Cli cli;

    @Parameters(paramLabel = "ID", arity = "0..1", defaultValue = "latest", description = "A backup id, or 'latest' (default).")
    String id;

    @Option(names = "--keep", description = "Keep the scratch copies (databases are dropped, Redis and storage targets emptied by default).")
    boolean keep;

    @Option(names = "--read-data", description = "In preflight, re-read every byte of the backup, not only the sizes.")
    boolean readData;

    @Option(names = "--strict", description = "Fail the drill when a tenant's private key or a Redis key did not come back.")
    boolean strict;

    @Mixin
    LockWait lockWait;

    @Override
    public Integer call() {
        Config config = cli.loadConfig();
        try (Repository repository = cli.openRepositoryForArtifacts(config);
             RepositoryLock lock = cli.lock(repository, RepositoryLock.Kind.DRILL, lockWait)) {
            DrillReport report = new DrillRun(config, repository, cli::progress, StepListener.NONE, Clock.systemUTC()).run(id, keep, readData, strict);
            cli.print(report);
            return report.exitCode();
        }
    }
}
