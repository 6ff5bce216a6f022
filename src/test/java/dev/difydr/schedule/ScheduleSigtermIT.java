package dev.difydr.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.repository.Json;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.LocalPostgres;
import dev.difydr.testsupport.PostgresServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler as operators run it: schedule files, a real backup of PostgreSQL run as a child process at its minute,
 * then SIGTERM to the scheduler while a second backup is stuck in pg_dump: that backup is stopped after the grace
 * period, aborts cleanly (no manifest, nothing listed), and the scheduler exits 0.
 */
@Tag("slow")
class ScheduleSigtermIT {
    private static PostgresServer pg;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws IOException {
        pg = PostgresServer.start();
        pg.loadDifyFixtures();
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void backupAtItsMinuteThenSigtermMidJob() throws Exception {
        Files.writeString(dir.resolve("pg-password"), pg.password() + "\n");
        // pg_dump runs as usual, except for the schedule 'stuck-backup': it sends the start of a dump and hangs
        Path bin = Files.createDirectory(dir.resolve("bin"));
        Path wrapper = bin.resolve("pg_dump");
        Files.writeString(wrapper, """
                #!/bin/bash
                if [ "$1" = "--version" ]; then exec %1$s "$@"; fi
                echo "$DIFY_DR_SCHEDULE" >> %2$s/schedules-seen
                if [ "$DIFY_DR_SCHEDULE" = stuck-backup ]; then
                  printf 'PGDMP'
                  touch %2$s/stuck
                  exec sleep 300
                fi
                exec %1$s "$@"
                """.formatted(LocalPostgres.tool("pg_dump"), dir));
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path repo = dir.resolve("repo");
        Path config = Files.writeString(dir.resolve("dify-dr.yaml"), """
                deployment: prod
                repository: {url: "file://%s"}
                metrics: {port: %d}
                schedule: {gracePeriod: 3s}
                """.formatted(repo, port) + pg.postgresYaml(dir.resolve("pg-password")) + "  binDir: " + bin + "\n");
        // the good backup at the first minute at least 15 s away (time to start), the stuck one a minute later
        Instant first = Instant.now().plusSeconds(15).atOffset(ZoneOffset.UTC).withSecond(0).withNano(0).plusMinutes(1).toInstant();
        int m1 = first.atOffset(ZoneOffset.UTC).getMinute();
        int m2 = (m1 + 1) % 60;
        Path schedules = Files.createDirectory(dir.resolve("schedules"));
        Files.writeString(schedules.resolve("good-backup.yaml"), "name: good-backup\ncron: '" + m1 + " * * * *'\njob: backup\ncomponents: [postgres]\n");
        Files.writeString(schedules.resolve("stuck-backup.yaml"), "name: stuck-backup\ncron: '" + m2 + " * * * *'\njob: backup\n");

        try (SchedulerJvm scheduler = SchedulerJvm.start(config, schedules, dir.resolve("scheduler.log"))) {
            SchedulerJvm.await("/healthz", Duration.ofSeconds(30), () -> SchedulerJvm.status(port, "/healthz") == 200, scheduler);
            HttpResponse<String> metrics = SchedulerJvm.get(port, "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");

            SchedulerJvm.await("the good backup", Duration.ofSeconds(100), () -> scheduler.log().contains("schedule good-backup: backup finished, exit 0"), scheduler);
            List<String> completed = backups(config, false);
            assertThat(completed).hasSize(1);
            String success = "dify_dr_job_last_success_timestamp_seconds{command=\"backup\",deployment=\"prod\",schedule=\"good-backup\"}";
            SchedulerJvm.await("the run's metrics on /metrics", Duration.ofSeconds(10), () -> scrape(port).contains(success), scheduler);

            SchedulerJvm.await("the stuck backup", Duration.ofSeconds(75), () -> Files.exists(dir.resolve("stuck")), scheduler);
            Thread.sleep(500);
            int exit = scheduler.terminate(Duration.ofSeconds(60));

            String log = scheduler.log();
            assertThat(exit).as(log).isZero();
            assertThat(log).contains("schedule good-backup: backup --only postgres started (fire time " + first + ", 0.")
                    .contains("still running after the grace period of 3.0s: stopping it with SIGTERM")
                    .contains("stopped by a signal")
                    .contains("no manifest is written")
                    .contains("schedule stuck-backup: backup FAILED, exit 143 (killed by signal 15)")
                    .contains("scheduler stopped")
                    .doesNotContain(pg.password());
            assertThat(Files.readAllLines(dir.resolve("schedules-seen"))).as("DIFY_DR_SCHEDULE of each child")
                    .containsExactly("good-backup", "good-backup", "stuck-backup");
        }
        List<String> listed = backups(config, false);
        assertThat(listed).as("only the completed backup is listed").hasSize(1);
        assertThat(backups(config, true)).as("the aborted one left nothing").hasSize(1);
        try (Stream<Path> files = Files.walk(repo)) {
            List<String> paths = files.filter(Files::isRegularFile).map(p -> repo.relativize(p).toString()).toList();
            assertThat(paths.stream().filter(p -> p.endsWith("/manifest.json"))).hasSize(1);
            assertThat(paths).as("its upload was aborted and its lock released").noneMatch(p -> p.contains(".partial-"))
                    .noneMatch(p -> p.contains("/locks/"));
        }
        CliRun verify = CliRun.withConfig(config, "verify", listed.get(0), "--read-data");
        assertThat(verify.code()).as("the scheduled backup verifies: %s", verify.everything()).isZero();
    }

    /** The scheduler's /metrics, or "" while it does not answer. */
    private static String scrape(int port) {
        try {
            return SchedulerJvm.get(port, "/metrics").body();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static List<String> backups(Path config, boolean all) throws IOException {
        CliRun run = all ? CliRun.withConfig(config, "--json", "list", "--all") : CliRun.withConfig(config, "--json", "list");
        assertThat(run.code()).as(run.err()).isZero();
        JsonNode doc = Json.MAPPER.readTree(run.out());
        return doc.get("backups").findValuesAsText("id");
    }
}
