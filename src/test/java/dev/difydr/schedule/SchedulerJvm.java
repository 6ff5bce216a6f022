package dev.difydr.schedule;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** {@code dify-dr schedule} in a JVM of its own (the test class path), its output in a log file. */
final class SchedulerJvm implements AutoCloseable {
    /** Options of the scheduler and, through DIFY_DR_JAVA_OPTS, of the jobs it starts: the launcher's. */
    static final String JAVA_OPTS = "-Xms32m -Xmx160m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError";

    final Process process;
    final Path log;

    private SchedulerJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static SchedulerJvm start(Path config, Path schedules, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(JAVA_OPTS.split(" ")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.difydr.Main", "--config", config.toString(), "schedule",
                "--schedules", schedules.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("DIFY_DR_JAVA_OPTS", JAVA_OPTS);
        pb.environment().put("LC_ALL", "C.UTF-8");
        return new SchedulerJvm(pb.start(), log);
    }

    String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** SIGTERM, then the exit code; fails when the scheduler takes longer than {@code limit} to stop. */
    int terminate(Duration limit) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("scheduler did not stop within " + limit + " of SIGTERM; log:\n" + log());
        }
        return process.exitValue();
    }

    static void await(String what, Duration limit, BooleanSupplier condition, SchedulerJvm... logsOf) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                StringBuilder logs = new StringBuilder();
                for (SchedulerJvm s : logsOf) {
                    logs.append("\n--- ").append(s.log).append(":\n").append(s.log());
                }
                throw new AssertionError("timed out after " + limit + " waiting for " + what + logs);
            }
            Thread.sleep(200);
        }
    }

    static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static int status(int port, String path) {
        try {
            return get(port, path).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
