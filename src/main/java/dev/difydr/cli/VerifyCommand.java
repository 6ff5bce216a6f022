package dev.difydr.cli;

import dev.difydr.config.Config;
import dev.difydr.repository.Repository;
import dev.difydr.repository.RepositoryLock;
import dev.difydr.verify.VerifyResult;
import dev.difydr.verify.VerifyRun;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "verify", description = "Check that every artifact of a backup is present with its recorded size.")
final class VerifyCommand implements Callable<Integer> {
    @ParentCommand
    Cli cli;

    @Parameters(paramLabel = "ID", description = "A backup id, or 'latest'.")
    String id;

    @Option(names = "--read-data", description = "Re-read every byte and compare both SHA-256s (plain and stored).")
    boolean readData;

    @Mixin
    LockWait lockWait;

    @Override
    public Integer call() {
        Config config = cli.loadConfig();
        try (Repository repository = readData ? cli.openRepositoryForArtifacts(config) : cli.openRepository(config);
             RepositoryLock lock = cli.lock(repository, RepositoryLock.Kind.VERIFY, lockWait)) {
            VerifyResult result = new VerifyRun(repository, cli::progress).run(id, readData);
            cli.print(result);
            return result.ok() ? 0 : dev.difydr.Failure.VERIFY.exitCode();
        }
    }
}
