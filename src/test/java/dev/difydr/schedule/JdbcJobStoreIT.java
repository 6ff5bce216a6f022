package dev.difydr.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import dev.difydr.observe.Metrics;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Quartz's tables created once and safely, and the job store kept equal to the schedule files. */
class JdbcJobStoreIT {
    private static PostgresServer pg;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        pg = PostgresServer.start();
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    private static HikariDataSource dataSource(String database) {
        HikariDataSource ds = new HikariDataSource();
        ds.setJdbcUrl("jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + database);
        ds.setUsername(pg.user());
        ds.setPassword(pg.password());
        return ds;
    }

    @Test
    void tablesAreCreatedOnceByReplicasStartingTogether() throws Exception {
        pg.createDatabase("together");
        pg.psql("together", "-c", "CREATE TABLE keep_me (x int)");
        try (HikariDataSource ds = dataSource("together")) {
            CyclicBarrier barrier = new CyclicBarrier(3);
            List<CompletableFuture<Boolean>> replicas = List.of(1, 2, 3).stream().map(i -> CompletableFuture.supplyAsync(() -> {
                try {
                    barrier.await();
                    return QuartzTables.ensure(ds, "dify-dr-prod");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            })).toList();

            assertThat(replicas.stream().map(CompletableFuture::join).filter(created -> created).count()).as("created by one replica").isEqualTo(1);
            assertThat(QuartzTables.ensure(ds, "dify-dr-prod")).as("a later start creates nothing").isFalse();
            assertThat(QuartzTables.ensure(ds, "dify-dr-staging")).isFalse();
        }
        assertThat(pg.psql("together", "-tA", "-c", "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'qrtz\\_%'").trim())
                .isEqualTo(String.valueOf(QuartzTables.TABLES.size()));
        assertThat(pg.psql("together", "-tA", "-c", "SELECT sched_name || ' ' || lock_name FROM qrtz_locks ORDER BY 1"))
                .isEqualTo("dify-dr-prod STATE_ACCESS\ndify-dr-prod TRIGGER_ACCESS\ndify-dr-staging STATE_ACCESS\ndify-dr-staging TRIGGER_ACCESS\n");
        assertThat(pg.psql("together", "-tA", "-c", "SELECT count(*) FROM keep_me").trim()).isEqualTo("0");
    }

    @Test
    void theStoreFollowsTheScheduleFiles() throws Exception {
        pg.createDatabase("store");
        Path password = Files.writeString(dir.resolve("pg-password"), pg.password() + "\n");
        Config config = new ConfigLoader(Map.<String, String>of()::get).parse("""
                deployment: prod
                repository: {url: "file://%s"}
                schedule:
                  jobStore: jdbc
                  jdbc: {host: %s, port: %d, database: store, user: %s, password: "${file:%s}", sslmode: disable}
                """.formatted(dir.resolve("repo"), pg.host(), pg.port(), pg.user(), password), "test.yaml");
        Path files = Files.createDirectory(dir.resolve("schedules"));
        Files.writeString(files.resolve("a.yaml"), "name: nightly\ncron: '0 2 * * *'\njob: backup\n");
        Files.writeString(files.resolve("b.yaml"), "name: weekly\ncron: '0 5 * * SUN'\ntimeZone: Europe/Berlin\njob: verify\nreadData: true\nmisfire: skip\n");
        Files.writeString(files.resolve("c.yaml"), "name: drill\ncron: '@monthly'\njob: drill\nenabled: false\n");

        run(config, files);
        assertThat(triggers()).isEqualTo("""
                nightly|0 0 2 * * ?|UTC|1
                weekly|0 0 5 ? * 1|Europe/Berlin|2
                """);
        assertThat(pg.psql("store", "-tA", "-c", "SELECT job_name || ' ' || description FROM qrtz_job_details ORDER BY 1"))
                .isEqualTo("nightly backup\nweekly verify latest --read-data\n");
        String nightlyStart = startTime("nightly");

        Files.delete(files.resolve("b.yaml"));
        Files.writeString(files.resolve("c.yaml"), "name: drill\ncron: '@monthly'\njob: drill\n");
        Files.writeString(files.resolve("d.yaml"), "name: hourly\ncron: '15 * * * *'\njob: backup\ncomponents: [redis]\n");
        run(config, files);

        assertThat(triggers()).isEqualTo("""
                drill|0 0 0 1 * ?|UTC|1
                hourly|0 15 * * * ?|UTC|1
                nightly|0 0 2 * * ?|UTC|1
                """);
        assertThat(startTime("nightly")).as("an unchanged trigger is kept").isEqualTo(nightlyStart);
        Files.writeString(files.resolve("a.yaml"), "name: nightly\ncron: '0 3 * * *'\njob: backup\n");
        run(config, files);
        assertThat(triggers()).contains("nightly|0 0 3 * * ?|UTC|1");
    }

    @Test
    void configCheckReachesTheJobStore() throws Exception {
        pg.createDatabase("checked");
        Path password = Files.writeString(dir.resolve("check-password"), pg.password() + "\n");
        Path config = Files.writeString(dir.resolve("check.yaml"), """
                deployment: prod
                repository: {url: "file://%s"}
                schedule:
                  jobStore: jdbc
                  jdbc: {host: %s, port: %d, database: checked, user: %s, password: "${file:%s}", sslmode: disable}
                """.formatted(dir.resolve("check-repo"), pg.host(), pg.port(), pg.user(), password));

        CliRun before = CliRun.withConfig(config, "--json", "config", "check");
        try (HikariDataSource ds = dataSource("checked")) {
            QuartzTables.ensure(ds, "dify-dr-prod");
        }
        CliRun after = CliRun.withConfig(config, "--json", "config", "check");

        assertThat(before.code()).as(before.everything()).isZero();
        assertThat(detail(before)).matches("PostgreSQL 15\\.\\d+.* at " + pg.host() + ":" + pg.port() + ", database 'checked': Quartz's tables"
                + " are not there yet; the first start of `schedule` creates them \\(user 'postgres' needs CREATE in the database\\)");
        assertThat(detail(after)).endsWith(": Quartz's tables present; 0 scheduler instance(s) of dify-dr-prod checked in");
        assertThat(before.everything() + after.everything()).doesNotContain(pg.password());

        Files.writeString(password, "wrong\n");
        CliRun wrong = CliRun.withConfig(config, "--json", "config", "check");
        assertThat(wrong.code()).isEqualTo(dev.difydr.Failure.SOURCE.exitCode());
        assertThat(detail(wrong)).contains("cannot connect to database 'checked' on PostgreSQL " + pg.host() + ":" + pg.port(), "password authentication failed");
    }

    private static String detail(CliRun run) throws java.io.IOException {
        for (com.fasterxml.jackson.databind.JsonNode item : dev.difydr.repository.Json.MAPPER.readTree(run.out()).get("checks")) {
            if (item.get("name").asText().equals("schedule.jdbc")) {
                return item.get("detail").asText();
            }
        }
        throw new AssertionError("no schedule.jdbc check in " + run.out());
    }

    private static void run(Config config, Path files) {
        Metrics metrics = new Metrics();
        JobProcess jobs = new JobProcess(List.of("java"), dir.resolve("dify-dr.yaml"), config.deployment(), metrics, Clock.systemUTC());
        try (SchedulerProcess scheduler = new SchedulerProcess(config, new ScheduleLoader().load(files), jobs, metrics)) {
            scheduler.start();
            assertThat(scheduler.healthy()).isTrue();
            scheduler.close();
            assertThat(scheduler.healthy()).isFalse();
        }
    }

    private static String triggers() {
        return pg.psql("store", "-tA", "-c", "SELECT t.trigger_name || '|' || c.cron_expression || '|' || c.time_zone_id || '|' || t.misfire_instr"
                + " FROM qrtz_triggers t JOIN qrtz_cron_triggers c USING (sched_name, trigger_name, trigger_group) ORDER BY 1");
    }

    private static String startTime(String name) {
        return pg.psql("store", "-tA", "-c", "SELECT start_time FROM qrtz_triggers WHERE trigger_name = '" + name + "'").trim();
    }
}
