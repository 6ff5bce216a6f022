package dev.difydr.cli;

import dev.difydr.backup.BackupResult;
import dev.difydr.backup.BackupRun;
import dev.difydr.config.Config;
import dev.difydr.repository.Repository;
import dev.difydr.repository.RepositoryLock;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "backup", description = "Take one backup set of everything configured (PostgreSQL, Redis, file storage, Dify's ConfigMaps and Secrets) and store it in the repository.")
final class BackupCommand implements Callable<Integer> {
    @ParentCommand
    Cli cli;

    @Option(names = "--only", split = ",", paramLabel = "COMPONENT",
            description = "Back up only these components: postgres, redis, storage, kubernetes (comma-separated; kubernetes needs encryption.keyset).")
    Set<String> only = new LinkedHashSet<>();

    @Mixin
    LockWait lockWait;

    @Override
    public Integer call() {
        Config config = cli.loadConfig();
        try (Repository repository = cli.openRepositoryForArtifacts(config)) {
            BackupResult result = new BackupRun(config, repository, cli::progress, Clock.systemUTC(), only,
                    () -> cli.lock(repository, RepositoryLock.Kind.BACKUP, lockWait)).run();
            cli.print(result);
            return result.exitCode();
        }
    }
}
