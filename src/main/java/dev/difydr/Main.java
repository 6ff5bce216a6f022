package dev.difydr;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.difydr.cli.Cli;
import dev.difydr.repository.Json;
import java.io.PrintWriter;
import java.util.function.Function;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** Entry point, and the only place that turns a failure into a message and an exit code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Every subcommand answers --help and --version, like the top-level command. */
    private static void withHelp(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            sub.getCommandSpec().mixinStandardHelpOptions(true);
            withHelp(sub);
        }
    }

    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, out, err, System::getenv);
    }

    /**
     * {@code environment}: where the run reads {@code DIFY_DR_SCHEDULE} and {@code DIFY_DR_SCHEDULER} (the process
     * environment, or a test's).
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Function<String, String> environment) {
        Cli cli = new Cli();
        cli.setEnvironment(environment);
        cli.setOut(out);
        cli.setArguments(args);
        CommandLine cl = new CommandLine(cli);
        cl.setOut(out);
        cl.setErr(err);
        cl.getCommandSpec().usageMessage().footerHeading("%nExit codes:%n").footer(Failure.table().split("\n"));
        withHelp(cl);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("error: " + ex.getMessage());
            err.println("see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'");
            return Failure.USAGE.exitCode();
        });
        cl.setExecutionStrategy(parsed -> {
            cli.configureLogging();
            cli.started(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parsed) -> {
            Failure failure = ex instanceof DrException dr ? dr.failure() : Failure.INTERNAL;
            String message = DrException.describe(ex);
            if (failure == Failure.INTERNAL) {
                LoggerFactory.getLogger(Main.class).error("unexpected error", ex);
            }
            ObjectNode doc = Json.MAPPER.createObjectNode();
            doc.put("status", "failed");
            doc.set("error", Json.MAPPER.valueToTree(ErrorReport.of(failure, ex)));
            cli.failed(doc);
            if (cli.json()) {
                out.println(doc.toPrettyString());
                out.flush();
            }
            err.println("error: " + message);
            err.flush();
            return failure.exitCode();
        });
        int exitCode = cl.execute(args);
        // notifications and the Pushgateway hear how a job ended; they never change the exit code
        cli.finished(exitCode);
        return exitCode;
    }
}
