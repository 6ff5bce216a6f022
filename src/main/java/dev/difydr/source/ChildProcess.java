package dev.difydr.source;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A child process whose data is its stdout ({@link #start}) or its stdin ({@link #startReading}), and whose stderr is
 * kept (the last 64 KiB) for the error message. Secrets go in through {@code environment}, never the argument list.
 * {@link #finish()} fails loudly on any exit code but 0.
 */
public final class ChildProcess implements AutoCloseable {
    private static final int STDERR_TAIL = 64 * 1024;
    private final String what;
    private final Process process;
    private final Thread stderrReader;
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    private ChildProcess(String what, Process process) {
        this.what = what;
        this.process = process;
        this.stderrReader = new Thread(this::drainStderr, "stderr-" + what);
        this.stderrReader.setDaemon(true);
        this.stderrReader.start();
    }

    /** Starts a child whose stdout is the data; its stdin is closed at once. */
    public static ChildProcess start(String what, List<String> command, Map<String, String> environment) {
        return start(what, command, environment, false);
    }

    /** Starts a child that reads its data from {@link #stdin()}; its stdout is discarded. */
    public static ChildProcess startReading(String what, List<String> command, Map<String, String> environment) {
        return start(what, command, environment, true);
    }

    private static ChildProcess start(String what, List<String> command, Map<String, String> environment, boolean reading) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(environment);
        pb.redirectInput(ProcessBuilder.Redirect.PIPE);
        if (reading) {
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        }
        try {
            ChildProcess child = new ChildProcess(what, pb.start());
            if (!reading) {
                child.process.getOutputStream().close();
            }
            return child;
        } catch (IOException e) {
            throw new DrException(Failure.SOURCE, "cannot start " + command.get(0) + " for " + what + ": " + e.getMessage()
                    + " (install it, or set its directory in the configuration)", e);
        }
    }

    public InputStream stdout() {
        return process.getInputStream();
    }

    public java.io.OutputStream stdin() {
        return process.getOutputStream();
    }

    public long pid() {
        return process.pid();
    }

    private void drainStderr() {
        byte[] buf = new byte[8192];
        try (InputStream in = process.getErrorStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (stderr) {
                    stderr.write(buf, 0, n);
                    if (stderr.size() > 2 * STDERR_TAIL) {
                        byte[] all = stderr.toByteArray();
                        stderr.reset();
                        stderr.write(all, all.length - STDERR_TAIL, STDERR_TAIL);
                    }
                }
            }
        } catch (IOException ignored) {
            // the process went away; what was read is kept
        }
    }

    public String stderrText() {
        synchronized (stderr) {
            return stderr.toString(StandardCharsets.UTF_8).strip();
        }
    }

    /** Waits for the exit; any code but 0 is a SOURCE failure quoting the child's stderr. */
    public void finish() {
        int code;
        try {
            code = process.waitFor();
            stderrReader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new DrException(Failure.SOURCE, what + " interrupted");
        }
        if (code != 0) {
            String reason = code > 128 ? "was killed by signal " + (code - 128) : "exited with code " + code;
            String err = stderrText();
            throw new DrException(Failure.SOURCE, what + " " + reason + (err.isEmpty() ? "" : ": " + err));
        }
    }

    /** Kills the child if it is still running (after a failure downstream). */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
