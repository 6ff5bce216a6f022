package dev.difydr.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.Printable;
import dev.difydr.Version;
import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import dev.difydr.crypto.Keyring;
import dev.difydr.pipeline.GcmWarmUp;
import dev.difydr.kube.ClusterClient;
import dev.difydr.observe.JobRecorder;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Json;
import dev.difydr.repository.Repository;
import dev.difydr.repository.RepositoryLock;
import dev.difydr.store.Stores;
import java.io.PrintWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.function.Function;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/** The top-level command: global options and what every subcommand needs from them. */
@Command(name = "dify-dr",
        mixinStandardHelpOptions = true,
        versionProvider = Cli.VersionProvider.class,
        description = "Backup and disaster recovery for self-hosted Dify.",
        subcommands = {BackupCommand.class, ListCommand.class, ShowCommand.class, VerifyCommand.class, PruneCommand.class, RestoreCommand.class,
                DrillCommand.class, ScheduleCommand.class, ConfigCommand.class, UnlockCommand.class, KeysCommand.class, DecryptCommand.class})
public final class Cli {

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "Configuration file (default: $DIFY_DR_CONFIG, else dify-dr.yaml).")
    Path config;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print one JSON document on stdout; logs stay on stderr.")
    boolean json;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT, description = "Debug logging.")
    boolean verbose;

    @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT, description = "Warnings and errors only.")
    boolean quiet;

    private PrintWriter out = new PrintWriter(System.out, true);
    private String commandLine = "dify-dr";
    private Function<String, String> environment = System::getenv;
    private JobRecorder recorder = new JobRecorder(System::getenv);
    private boolean saidUnencrypted;

    public void setOut(PrintWriter out) {
        this.out = out;
    }

    /** The arguments this run was started with, for the locks it takes (secrets are never on the command line). */
    public void setArguments(String[] args) {
        commandLine = "dify-dr " + String.join(" ", args);
    }

    public boolean json() {
        return json;
    }

    public void setEnvironment(Function<String, String> environment) {
        this.environment = environment;
        this.recorder = new JobRecorder(environment);
    }

    /** An environment variable of this run (the process's, or a test's). */
    String env(String name) {
        return environment.apply(name);
    }

    /** Notes which command runs, and when it started: a job's outcome is published when {@link #finished} is called. */
    public void started(ParseResult parsed) {
        ParseResult sub = parsed.subcommand();
        String name = sub == null ? null : sub.commandSpec().name();
        // a restore's plan and a prune without --yes change nothing: no outcome to tell
        boolean plan = "restore".equals(name) && sub.hasMatchedOption("--plan") || "prune".equals(name) && !sub.hasMatchedOption("--yes");
        recorder.started(name, plan);
    }

    /** The failure document the command ended with (printed or not), in place of a result. */
    public void failed(JsonNode failureDocument) {
        recorder.failed(failureDocument);
    }

    /** After the command: its outcome goes to the notification targets and the Pushgateway ({@link JobRecorder}). */
    public void finished(int exitCode) {
        recorder.finished(exitCode);
    }

    public void configureLogging() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger own = (Logger) LoggerFactory.getLogger("dev.difydr");
        if (quiet) {
            root.setLevel(Level.WARN);
            own.setLevel(Level.WARN);
        } else if (verbose) {
            own.setLevel(Level.DEBUG);
        }
    }

    Path configPath() {
        if (config != null) {
            return config;
        }
        String env = System.getenv("DIFY_DR_CONFIG");
        return Path.of(env == null || env.isBlank() ? "dify-dr.yaml" : env);
    }

    Config loadConfig() {
        Config loaded = new ConfigLoader().load(configPath());
        recorder.configLoaded(loaded);
        return loaded;
    }

    /**
     * The repository the configuration names, with its keyring when {@code encryption} is configured; without, the run
     * says once that nothing it writes is encrypted or sealed.
     */
    Repository openRepository(Config config) {
        Keyring keyring = Keyring.fromConfig(config.encryption());
        if (keyring == null && !saidUnencrypted) {
            saidUnencrypted = true;
            LoggerFactory.getLogger(Cli.class).warn("encryption is not configured: artifacts are stored in the clear and manifests are not authenticated;"
                    + " set encryption.keyset (see runbooks/encryption.md)");
        }
        return new Repository(Stores.open(config.repository()), config.deployment(), keyring);
    }

    /**
     * {@link #openRepository} for a command that reads or writes artifacts: with {@code encryption} configured, AES-GCM
     * is warmed up meanwhile on a thread of its own ({@link GcmWarmUp}), so that the first artifact waits less for it.
     */
    Repository openRepositoryForArtifacts(Config config) {
        if (config.encryption() != null) {
            GcmWarmUp.start();
        }
        return openRepository(config);
    }

    /** Takes the repository lock a command of this kind needs, waiting up to {@code --lock-wait}. */
    RepositoryLock lock(Repository repository, RepositoryLock.Kind kind, LockWait wait) {
        return RepositoryLock.acquire(repository, kind, commandLine, wait.value);
    }

    /** A client for the cluster Dify runs in, or null without a kubernetes section. */
    KubernetesClient kubernetesClient(Config config) {
        return config.kubernetes() == null ? null : ClusterClient.connect(config.kubernetes());
    }

    /** Where restores keep the local copy of their journals. */
    Path stateDir(Config config) {
        if (config.restore().journalDir() != null) {
            return Path.of(config.restore().journalDir());
        }
        String xdg = System.getenv("XDG_STATE_HOME");
        return (xdg == null || xdg.isBlank() ? Path.of(System.getProperty("user.home"), ".local", "state") : Path.of(xdg)).resolve("dify-dr");
    }

    Progress progress(String label) {
        return Progress.start(label, System.console() != null && !json && !quiet);
    }

    void print(Printable result) {
        recorder.result(result);
        if (json) {
            try {
                out.println(Json.MAPPER.writeValueAsString(result));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot render result as JSON", e);
            }
        } else {
            out.print(result.toText());
        }
        out.flush();
    }

    static final class VersionProvider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"dify-dr " + Version.current()};
        }
    }
}
