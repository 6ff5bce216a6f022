package dev.difydr.cli;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Config;
import dev.difydr.repository.Repository;
import dev.difydr.repository.RepositoryLock;
import dev.difydr.restore.Journal;
import dev.difydr.restore.JournalStore;
import dev.difydr.restore.RestoreReport;
import dev.difydr.restore.RestoreWorkflow;
import dev.difydr.restore.StepListener;
import io.fabric8.kubernetes.client.KubernetesClient;
import dev.difydr.source.postgres.PostgresPhysicalRestore;
import java.io.Console;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "restore", description = {
        "Restore a backup into fresh databases and point Dify at them.",
        "Steps: preflight, record, scale-down, restore-databases, validate,",
        "[restore-redis, restore-storage, restore-config,] rewire, scale-up, smoke-checks, finish.",
        "Any failure after scale-down rolls back.",
        "Run with --plan first; see runbooks/incident-restore.md.",
        "A physical backup is restored with --data-directory only: into a new directory,",
        "without Kubernetes."})
final class RestoreCommand implements Callable<Integer> {
    @ParentCommand
    Cli cli;

    @Parameters(paramLabel = "ID", arity = "0..1", description = "A backup id, or 'latest'.")
    String id;

    @ArgGroup(exclusive = true)
    Mode mode = new Mode();

    static final class Mode {
        @Option(names = "--plan", description = "Show every step with its targets and change nothing.")
        boolean plan;

        @Option(names = "--yes", description = "Run without asking.")
        boolean yes;

        @Option(names = "--resume", paramLabel = "RESTORE_ID", description = "Continue an interrupted restore from its journal.")
        String resume;

        @Option(names = "--rollback", paramLabel = "RESTORE_ID", description = "Undo a restore: old settings, recorded replicas.")
        String rollback;
    }

    @Option(names = "--target-database", paramLabel = "[SOURCE=]NAME",
            description = "Name of a new database (default <source>_restore_<backup id>); NAME alone names the main database's copy.")
    List<String> targetDatabases = new ArrayList<>();

    @Option(names = "--target-host", paramLabel = "HOST[:PORT]|[IPV6]:PORT",
            description = "Restore onto another PostgreSQL server; Dify's DB_HOST/DB_PORT are rewired to it.")
    String targetHost;

    @Option(names = "--replicas", paramLabel = "DEPLOYMENT=N",
            description = "Bring a Deployment up to N after the restore (a rollback still returns it to the replicas it had before).")
    Map<String, Integer> replicas = new LinkedHashMap<>();

    @Option(names = "--data-directory", paramLabel = "DIR",
            description = "Physical backups: extract into this new (missing or empty) directory and stop there; start PostgreSQL on it yourself.")
    Path dataDirectory;

    @Option(names = "--read-data", description = "In preflight, re-read every byte of the backup, not only the sizes.")
    boolean readData;

    @Option(names = "--with", split = ",", paramLabel = "COMPONENT",
            description = {"Also restore redis and/or storage (to restore.redis/restore.storage or where they came from), and/or config:",
                    "the backup's ConfigMaps and Secrets, created where they do not exist (never over ones with other content)."})
    Set<String> with = new LinkedHashSet<>();

    @Option(names = "--config-namespace", paramLabel = "NS",
            description = "Where --with config re-creates the ConfigMaps and Secrets (default: Dify's namespace, kubernetes.namespace).")
    String configNamespace;

    @Option(names = "--redis-replace", description = "Replace Redis keys that exist on the target (default: keep them and report them).")
    boolean redisReplace;

    @Option(names = "--storage-overwrite", description = "Overwrite files that exist with other content (default: keep them and report them).")
    boolean storageOverwrite;

    @Option(names = "--strict", description = "Fail (and roll back) when a tenant's private key or a Redis key could not be restored.")
    boolean strict;

    @Mixin
    LockWait lockWait;

    @Override
    public Integer call() {
        Config config = cli.loadConfig();
        if (dataDirectory != null) {
            return restoreDataDirectory(config);
        }
        try (Repository repository = mode.plan || mode.rollback != null ? cli.openRepository(config) : cli.openRepositoryForArtifacts(config);
             // a plan reads only the manifest, and a rollback no artifact: neither waits for a prune
             RepositoryLock lock = mode.plan || mode.rollback != null ? null : cli.lock(repository, RepositoryLock.Kind.RESTORE, lockWait);
             KubernetesClient client = cli.kubernetesClient(config)) {
            JournalStore journals = new JournalStore(repository, cli.stateDir(config));
            RestoreWorkflow workflow = new RestoreWorkflow(config, repository, client, journals, cli::progress, StepListener.NONE, Clock.systemUTC());
            Journal journal;
            if (mode.resume != null || mode.rollback != null) {
                if (id != null || !targetDatabases.isEmpty() || targetHost != null || !replicas.isEmpty() || !with.isEmpty() || configNamespace != null) {
                    throw new DrException(Failure.USAGE, "--resume and --rollback take only the restore id; the journal holds everything else");
                }
                journal = mode.resume != null ? workflow.resume(mode.resume) : workflow.rollback(mode.rollback);
            } else {
                if (id == null) {
                    throw new DrException(Failure.USAGE, "name the backup to restore (an id from 'dify-dr list', or 'latest')");
                }
                Journal plan = workflow.plan(new RestoreWorkflow.Request(id, targetDatabases, targetHost, readData, replicas,
                        with, redisReplace, storageOverwrite, strict, configNamespace));
                if (mode.plan) {
                    journal = plan;
                } else {
                    if (!mode.yes && !confirmed(new RestoreReport(plan, "", "").toText())) {
                        throw new DrException(Failure.USAGE, "restore not confirmed; nothing was changed");
                    }
                    // The id is what --resume and --rollback need if this terminal dies: say it before anything changes.
                    System.err.println("restore " + plan.id + " starting; journal: " + journals.localPath(plan.id) + " and "
                            + journals.repositoryKey(plan.id) + " in the repository");
                    journal = workflow.run(plan);
                }
            }
            RestoreReport report = new RestoreReport(journal, journals.localPath(journal.id).toString(), journals.repositoryKey(journal.id));
            cli.print(report);
            return report.exitCode();
        }
    }

    private int restoreDataDirectory(Config config) {
        if (id == null || mode.plan || mode.resume != null || mode.rollback != null || !targetDatabases.isEmpty() || targetHost != null
                || !replicas.isEmpty() || readData || !with.isEmpty() || redisReplace || storageOverwrite || strict || configNamespace != null) {
            throw new DrException(Failure.USAGE, "--data-directory takes only the backup id: it extracts a physical backup into a new"
                    + " directory and changes nothing else");
        }
        try (Repository repository = cli.openRepositoryForArtifacts(config);
             RepositoryLock lock = cli.lock(repository, RepositoryLock.Kind.RESTORE, lockWait)) {
            PostgresPhysicalRestore.Result result = new PostgresPhysicalRestore(repository, cli::progress).restore(id, dataDirectory);
            cli.print(result);
            return result.exitCode();
        }
    }

    /** Asks once on a terminal; without one (a CronJob, a pipe) there is nobody to ask, so it refuses. */
    private boolean confirmed(String plan) {
        Console console = System.console();
        if (console == null || cli.json()) {
            throw new DrException(Failure.USAGE, "restore changes the running Dify: pass --plan to see the steps, or --yes to run them"
                    + " (there is no terminal to ask on)");
        }
        console.writer().print(plan);
        String answer = console.readLine("Type 'yes' to run this restore: ");
        return answer != null && answer.strip().equalsIgnoreCase("yes");
    }
}
