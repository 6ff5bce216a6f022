package dev.difydr.testsupport;

import dev.difydr.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/**
 * One run of the CLI inside the test JVM: exit code, stdout, the error writer, and everything written to the
 * process's stdout and stderr meanwhile (where the logs go), so that tests can check that no secret leaks anywhere.
 */
public record CliRun(int code, String out, String err, String logs) {

    /** The command line {@code --config CONFIG ARGS...}. */
    public static CliRun withConfig(java.nio.file.Path config, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--config";
        all[1] = config.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return of(all);
    }

    public static CliRun of(String... args) {
        return of(System::getenv, args);
    }

    /** A run that reads its environment variables from {@code environment}. */
    public static synchronized CliRun of(java.util.function.Function<String, String> environment, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        PrintStream systemOut = System.out;
        PrintStream systemErr = System.err;
        System.setOut(new PrintStream(new Tee(systemOut, logs), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new Tee(systemErr, logs), true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args, new PrintWriter(out), new PrintWriter(err), environment);
        } finally {
            System.setOut(systemOut);
            System.setErr(systemErr);
        }
        return new CliRun(code, out.toString(), err.toString(), logs.toString(StandardCharsets.UTF_8));
    }

    public String everything() {
        return out + err + logs;
    }

    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
