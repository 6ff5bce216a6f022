package dev.difydr.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.repository.Repository;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.testsupport.HandMadeBackups;
import dev.difydr.testsupport.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two schedulers (two JVMs) on one clustered JobStore in PostgreSQL, both started together on an empty database:
 * every fire of every schedule runs exactly once, on one of them.
 */
@Tag("slow")
class ClusteredScheduleIT {
    private static final Pattern STARTED = Pattern.compile("schedule (\\S+): verify latest started \\(fire time (\\S+), ");
    private static final int SCHEDULES = 4;

    @TempDir
    Path dir;

    @Test
    void eachFireRunsOnceAcrossTwoSchedulers() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            pg.createDatabase("dify_dr");
            Files.writeString(dir.resolve("pg-password"), pg.password() + "\n");
            Path repo = dir.resolve("repo");
            try (Repository repository = new Repository(new FileObjectStore(repo), "prod")) {
                HandMadeBackups.write(repository, "20261201T020000Z-aaaaaa");
            }
            Path config = Files.writeString(dir.resolve("dify-dr.yaml"), """
                    deployment: prod
                    repository: {url: "file://%s"}
                    schedule:
                      jobStore: jdbc
                      jdbc: {host: %s, port: %d, database: dify_dr, user: %s, password: "${file:%s}", sslmode: disable}
                    """.formatted(repo, pg.host(), pg.port(), pg.user(), dir.resolve("pg-password")));
            Instant fire = Instant.now().plusSeconds(25).atOffset(ZoneOffset.UTC).withSecond(0).withNano(0).plusMinutes(1).toInstant();
            int minute = fire.atOffset(ZoneOffset.UTC).getMinute();
            Path schedules = Files.createDirectory(dir.resolve("schedules"));
            for (int i = 0; i < SCHEDULES; i++) {
                Files.writeString(schedules.resolve("verify-" + i + ".yaml"), "name: verify-" + i + "\ncron: '" + minute + " * * * *'\njob: verify\n");
            }

            try (SchedulerJvm a = SchedulerJvm.start(config, schedules, dir.resolve("a.log"));
                 SchedulerJvm b = SchedulerJvm.start(config, schedules, dir.resolve("b.log"))) {
                SchedulerJvm.await("both schedulers started", Duration.ofSeconds(40),
                        () -> a.log().contains("scheduler dify-dr-prod started") && b.log().contains("scheduler dify-dr-prod started"), a, b);
                // A member whose first check-in lost a race with the other's checks in again after clusterCheckinInterval (10 s).
                SchedulerJvm.await("both instances checked in", Duration.ofSeconds(25), () -> "2".equals(
                        pg.psql("dify_dr", "-tA", "-c", "SELECT count(DISTINCT instance_name) FROM qrtz_scheduler_state WHERE sched_name = 'dify-dr-prod'").trim()), a, b);
                assertThat(pg.psql("dify_dr", "-tA", "-c", "SELECT lock_name FROM qrtz_locks WHERE sched_name = 'dify-dr-prod' ORDER BY 1"))
                        .isEqualTo("STATE_ACCESS\nTRIGGER_ACCESS\n");

                SchedulerJvm.await("every fire finished", Duration.ofSeconds(120),
                        () -> count(a.log() + b.log(), "verify finished, exit 0") >= SCHEDULES, a, b);
                Thread.sleep(3000); // a second run of a fire would start by now

                Map<String, Integer> runs = new HashMap<>();
                List<String> where = new ArrayList<>();
                for (SchedulerJvm s : List.of(a, b)) {
                    Matcher m = STARTED.matcher(s.log());
                    while (m.find()) {
                        runs.merge(m.group(1) + " at " + m.group(2), 1, Integer::sum);
                        where.add(s.log.getFileName() + ": " + m.group(1));
                    }
                }
                Map<String, Integer> once = new HashMap<>();
                for (int i = 0; i < SCHEDULES; i++) {
                    once.put("verify-" + i + " at " + fire, 1);
                }
                assertThat(runs).as("runs per fire: %s", where).isEqualTo(once);
                assertThat(count(a.log() + b.log(), "FAILED")).isZero();
                assertThat(a.terminate(Duration.ofSeconds(30))).isZero();
                assertThat(b.terminate(Duration.ofSeconds(30))).isZero();
                assertThat(a.log() + b.log()).doesNotContain(pg.password());
            }
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
