package dev.difydr.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.difydr.Printable;
import dev.difydr.Version;
import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import dev.difydr.kube.ClusterClient;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Json;
import dev.difydr.repository.Repository;
import dev.difydr.store.Stores;
import java.io.PrintWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level command: global options and what every subcommand needs from them. */
@Command(name = "dify-dr",
        mixinStandardHelpOptions = true,
        versionProvider = Cli.VersionProvider.class,
        description = "Backup and disaster recovery for self-hosted Dify.",
        subcommands = {BackupCommand.class, ListCommand.class, ShowCommand.class, VerifyCommand.class, RestoreCommand.class,
                DrillCommand.class, ScheduleCommand.class, ConfigCommand.class})
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

    public void setOut(PrintWriter out) {
        this.out = out;
    }

    public boolean json() {
        return json;
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
        return new ConfigLoader().load(configPath());
    }

    Repository openRepository(Config config) {
        return new Repository(Stores.open(config.repository()), config.deployment());
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
