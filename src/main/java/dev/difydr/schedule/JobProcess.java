package dev.difydr.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.Failure;
import dev.difydr.Main;
import dev.difydr.observe.JobOutcome;
import dev.difydr.observe.Metrics;
import dev.difydr.observe.OutcomePublisher;
import dev.difydr.repository.Json;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one fire of a schedule as a child JVM of this program ({@code java OPTS -cp CLASSPATH dev.difydr.Main --config
 * FILE --json ARGS}), so that the scheduler stays small and a job that fails, or exhausts its heap, cannot take it
 * down. The child learns its schedule from {@code DIFY_DR_SCHEDULE}, and from {@code DIFY_DR_SCHEDULER=1} that its
 * metrics are this process's to serve (it does not push them); its stdout (the JSON document) and exit code become a
 * {@link JobOutcome} for the metrics; its stderr (its log) goes to the scheduler's.
 */
public final class JobProcess {
    private static final Logger log = LoggerFactory.getLogger(JobProcess.class);

    private final List<String> java;
    private final Path config;
    private final String deployment;
    private final Metrics metrics;
    private final Clock clock;
    private final Set<Process> running = ConcurrentHashMap.newKeySet();
    private boolean stopped;

    public JobProcess(List<String> java, Path config, String deployment, Metrics metrics, Clock clock) {
        this.java = List.copyOf(java);
        this.config = config.toAbsolutePath();
        this.deployment = deployment;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * The JVM command line of this process, for its children: this JVM's binary and class path, and its options
     * ({@code -Xmx} and the like) unless {@code DIFY_DR_JAVA_OPTS} gives others. A debugger agent is not passed on.
     */
    public static List<String> javaOfThisProcess(Map<String, String> env) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        String opts = env.get("DIFY_DR_JAVA_OPTS");
        if (opts != null && !opts.isBlank()) {
            cmd.addAll(Arrays.asList(opts.trim().split("\\s+")));
        } else {
            ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                    .filter(a -> !a.startsWith("-agentlib:jdwp") && !a.startsWith("-Xrunjdwp")).forEach(cmd::add);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        return cmd;
    }

    /** The full command line of a fire of {@code arguments}. */
    List<String> command(List<String> arguments) {
        List<String> cmd = new ArrayList<>(java);
        cmd.addAll(List.of("--config", config.toString(), "--json"));
        cmd.addAll(arguments);
        return cmd;
    }

    /**
     * Runs the job to its end and records its outcome; never throws for a job that fails. Returns null, starting
     * nothing, once {@link #stopRunning} has been called.
     */
    public JobOutcome run(String schedule, String job, List<String> arguments, Instant fireTime) {
        Instant started = clock.instant();
        int exit;
        JsonNode doc = null;
        Process p = null;
        try {
            ProcessBuilder pb = new ProcessBuilder(command(arguments))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectError(ProcessBuilder.Redirect.INHERIT);
            pb.environment().put(OutcomePublisher.SCHEDULE_ENV, schedule);
            pb.environment().put(OutcomePublisher.SCHEDULER_ENV, "1");
            synchronized (running) {
                if (stopped) {
                    log.warn("schedule {}: {} not started: the scheduler is stopping", schedule, job);
                    return null;
                }
                p = pb.start();
                running.add(p);
            }
            log.info("schedule {}: {} started (fire time {}, {} late)", schedule, String.join(" ", arguments), fireTime,
                    seconds(Duration.between(fireTime, started)));
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            exit = p.waitFor();
            doc = parse(out);
        } catch (IOException e) {
            log.error("schedule {}: cannot start the job: {}", schedule, e.getMessage());
            exit = Failure.INTERNAL.exitCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exit = p == null ? Failure.INTERNAL.exitCode() : waitAfterInterrupt(p);
        } finally {
            if (p != null) {
                running.remove(p);
            }
        }
        Instant finished = clock.instant();
        JobOutcome outcome = JobOutcome.of(deployment, job, schedule, doc, exit, started, finished);
        if (exit == 0) {
            log.info("schedule {}: {} finished, exit 0, {}", schedule, job, seconds(outcome.duration()));
        } else {
            log.error("schedule {}: {} FAILED, exit {} ({}), {}{}", schedule, job, exit, meaning(exit), seconds(outcome.duration()),
                    outcome.error() == null ? "" : ": " + outcome.error());
        }
        try {
            metrics.record(outcome);
        } catch (RuntimeException e) {
            log.error("schedule {}: recording the outcome in the metrics failed: {}", schedule, e.toString());
        }
        return outcome;
    }

    private static int waitAfterInterrupt(Process p) {
        try {
            return p.waitFor();
        } catch (InterruptedException again) {
            Thread.currentThread().interrupt();
            return Failure.INTERNAL.exitCode();
        }
    }

    /** Whether a job is running now. */
    public boolean busy() {
        return !running.isEmpty();
    }

    /**
     * Waits up to {@code grace} for the running jobs to end, then stops the rest with SIGTERM (a backup then aborts its
     * uploads and writes no manifest) and waits for them up to {@code termWait}; whatever is still there is killed.
     */
    public void stopRunning(Duration grace, Duration termWait) {
        synchronized (running) {
            stopped = true;
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (Process p : List.copyOf(running)) {
            awaitUntil(p, deadline);
        }
        List<Process> left = List.copyOf(running);
        for (Process p : left) {
            log.warn("job process {} still running after the grace period of {}: stopping it with SIGTERM", p.pid(), seconds(grace));
            p.destroy();
        }
        long termDeadline = System.nanoTime() + termWait.toNanos();
        for (Process p : left) {
            if (!awaitUntil(p, termDeadline)) {
                log.error("job process {} did not stop within {} of SIGTERM: killing it", p.pid(), seconds(termWait));
                p.destroyForcibly();
            }
        }
    }

    private static boolean awaitUntil(Process p, long deadlineNanos) {
        try {
            return p.waitFor(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static JsonNode parse(String out) {
        if (out.isBlank()) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(out);
        } catch (IOException e) {
            return null;
        }
    }

    private static String meaning(int exit) {
        for (Failure f : Failure.values()) {
            if (f.exitCode() == exit) {
                return f.meaning();
            }
        }
        return exit > 128 ? "killed by signal " + (exit - 128) : "unknown exit code";
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1fs", d.toMillis() / 1000.0);
    }
}
