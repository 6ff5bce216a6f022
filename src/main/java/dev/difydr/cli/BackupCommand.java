package dev.difydr.cli;

import dev.difydr.backup.BackupResult;
import dev.difydr.backup.BackupRun;
import dev.difydr.config.Config;
import dev.difydr.repository.Repository;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "backup", description = "Take one backup set of the configured databases and store it in the repository.")
final class BackupCommand implements Callable<Integer> {
    @ParentCommand
    Cli cli;

    @Override
    public Integer call() {
        Config config = cli.loadConfig();
        try (Repository repository = cli.openRepository(config)) {
            BackupResult result = new BackupRun(config, repository, cli::progress, Clock.systemUTC()).run();
            cli.print(result);
            return result.exitCode();
        }
    }
}
