package dev.difydr.cli;

import dev.difydr.Printable;
import dev.difydr.config.Config;
import dev.difydr.repository.Repository;
import dev.difydr.repository.RepositoryLock;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "unlock", description = {
        "Remove stale repository locks: not refreshed for 30 minutes, or left on this host by a process that is gone.",
        "--all removes every lock; use it only when no dify-dr run is active on any host."})
final class UnlockCommand implements Runnable {
    @ParentCommand
    Cli cli;

    @Option(names = "--all", description = "Remove every lock, also those of runs that may be alive.")
    boolean all;

    @Override
    public void run() {
        Config config = cli.loadConfig();
        try (Repository repository = cli.openRepository(config)) {
            RepositoryLock.Unlocked result = RepositoryLock.unlock(repository, all);
            cli.print(new Result(result.removed(), result.kept()));
        }
    }

    record Result(List<String> removed, List<String> kept) implements Printable {
        @Override
        public String toText() {
            StringBuilder sb = new StringBuilder();
            if (removed.isEmpty() && kept.isEmpty()) {
                sb.append("no locks\n");
            }
            removed.forEach(r -> sb.append("removed ").append(r).append('\n'));
            kept.forEach(k -> sb.append("kept ").append(k).append('\n'));
            return sb.toString();
        }
    }
}
