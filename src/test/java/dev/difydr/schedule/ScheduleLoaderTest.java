package dev.difydr.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScheduleLoaderTest {
    @TempDir
    Path dir;

    private Path write(String file, String yaml) throws IOException {
        return Files.writeString(dir.resolve(file), yaml);
    }

    private String problems() {
        DrException e = catchThrowableOfType(DrException.class, () -> new ScheduleLoader().load(dir));
        assertThat(e).as("schedules should be refused").isNotNull();
        assertThat(e.failure()).isEqualTo(Failure.CONFIG);
        return e.getMessage();
    }

    @Test
    void shippedSchedulesLoad() {
        List<Schedule> schedules = new ScheduleLoader().load(Path.of("schedules"));

        Map<String, List<String>> commands = schedules.stream().collect(java.util.stream.Collectors.toMap(Schedule::name, Schedule::arguments));
        assertThat(commands).containsExactlyInAnyOrderEntriesOf(Map.of(
                "nightly-backup", List.of("backup"),
                "hourly-redis-backup", List.of("backup", "--only", "redis", "--lock-wait", "50m"),
                "weekly-verify", List.of("verify", "latest", "--read-data", "--lock-wait", "1h"),
                "daily-prune", List.of("prune", "--yes", "--lock-wait", "2h"),
                "quarterly-drill", List.of("drill", "latest", "--read-data", "--lock-wait", "1h")));
        assertThat(schedules).allMatch(Schedule::enabled);
        assertThat(schedules.stream().filter(s -> s.name().equals("hourly-redis-backup")).findFirst().orElseThrow().misfire())
                .isEqualTo(Misfire.SKIP);
    }

    @Test
    void everyOptionBecomesAFlag() throws IOException {
        write("prune.yaml", """
                name: careful-prune
                cron: "0 4 * * *"
                timeZone: Europe/Berlin
                job: prune
                lockWait: 10m
                misfire: fireAll
                retention: {keepLast: 3, keepHourly: 0, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 2, keepWithin: 2d, minKeep: 2}
                """);
        write("drill.yaml", "name: drill\ncron: '@monthly'\njob: drill\nreadData: true\nstrict: true\nenabled: false\n");

        List<Schedule> s = new ScheduleLoader().load(dir);

        assertThat(s.get(0).arguments()).containsExactly("drill", "latest", "--read-data", "--strict");
        assertThat(s.get(0).enabled()).isFalse();
        assertThat(s.get(1).arguments()).containsExactly("prune", "--yes", "--keep-last", "3", "--keep-hourly", "0", "--keep-daily", "7",
                "--keep-weekly", "4", "--keep-monthly", "12", "--keep-yearly", "2", "--keep-within", "2d", "--min-keep", "2",
                "--lock-wait", "10m");
        assertThat(s.get(1).zone().getId()).isEqualTo("Europe/Berlin");
        assertThat(s.get(1).misfire()).isEqualTo(Misfire.FIRE_ALL);
    }

    @Test
    void everyProblemOfEveryFileAtOnce() throws IOException {
        write("a.yaml", """
                name: nightly
                cron: "0 2 * * *"
                job: backup
                """);
        write("b.yaml", """
                name: nightly
                crn: "0 3 * * *"
                job: backupp
                timeZone: Europe/Berln
                misfire: skipp
                """);
        write("c.yml", """
                name: Weekly_Verify
                cron: "0 5 * * 7"
                job: verify
                components: [postgres]
                readData: yes please
                lockWait: soon
                """);
        write("d.yaml", """
                name: redis
                cron: "61 * 1 * MON"
                job: backup
                components: [redis, reddis]
                strict: true
                retention: {keepDaly: 3}
                """);
        write("e.yaml", "name: [x\n");
        write("notes.txt", "not a schedule");

        assertThat(problems()).isEqualTo("invalid schedules in " + dir + ":\n"
                + "  - " + dir.resolve("b.yaml") + ": crn: unknown key; did you mean 'cron'? (known keys here: name, cron, timeZone, job, enabled, misfire, lockWait, components, readData, strict, retention)\n"
                + "  - " + dir.resolve("b.yaml") + ": cron: missing required key (five fields like \"0 3 * * *\", or @daily, @weekly, ...)\n"
                + "  - " + dir.resolve("b.yaml") + ": timeZone: 'Europe/Berln' is not an IANA time zone name (like UTC, Europe/Berlin, Asia/Shanghai); did you mean 'Europe/Berlin'?\n"
                + "  - " + dir.resolve("b.yaml") + ": job: 'backupp' must be one of backup, verify, drill, prune; did you mean 'backup'?\n"
                + "  - " + dir.resolve("b.yaml") + ": misfire: 'skipp' must be one of fireOnceNow, skip, fireAll; did you mean 'skip'?\n"
                + "  - " + dir.resolve("b.yaml") + ": name: 'nightly' is also the name of the schedule in " + dir.resolve("a.yaml") + "; names must be unique\n"
                + "  - " + dir.resolve("c.yml") + ": readData: expected true or false\n"
                + "  - " + dir.resolve("c.yml") + ": name: 'Weekly_Verify' must be 1-40 lower-case letters, digits or '-', starting and ending with a letter or digit (it becomes part of a Kubernetes CronJob name)\n"
                + "  - " + dir.resolve("c.yml") + ": cron: day-of-week field '7': 7 is not accepted by Kubernetes CronJobs; write 0 or SUN for Sunday\n"
                + "  - " + dir.resolve("c.yml") + ": lockWait: 'soon' must be a duration (e.g. 0, 45s, 10m, 1h30m, 7d)\n"
                + "  - " + dir.resolve("c.yml") + ": components: only for job backup, not verify\n"
                + "  - " + dir.resolve("d.yaml") + ": retention.keepDaly: unknown key; did you mean 'keepDaily'? (known keys here: keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly, keepWithin, minKeep)\n"
                + "  - " + dir.resolve("d.yaml") + ": cron: minute field '61': 61 is out of range 0-59\n"
                + "  - " + dir.resolve("d.yaml") + ": strict: only for job drill, not backup\n"
                + "  - " + dir.resolve("d.yaml") + ": retention: only for job prune, not backup\n"
                + "  - " + dir.resolve("d.yaml") + ": components[1]: 'reddis' must be one of postgres, redis, storage, kubernetes; did you mean 'redis'?\n"
                + "  - " + dir.resolve("d.yaml") + ": retention: names no keep rule; give at least one of keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly, keepWithin (or leave retention out to use the configuration's)\n"
                + "  - " + dir.resolve("e.yaml") + ": not valid YAML: while parsing a flow sequence; expected ',' or ']', but got <stream end> (line 1)");
    }

    @Test
    void optionsOfAnotherJobAndBadValues() throws IOException {
        write("c.yaml", """
                name: Weekly_Verify
                cron: "0 5 * * 7"
                job: verify
                components: [postgres]
                lockWait: soon
                """);

        assertThat(problems()).isEqualTo("invalid schedules in " + dir + ":\n"
                + "  - " + dir.resolve("c.yaml") + ": name: 'Weekly_Verify' must be 1-40 lower-case letters, digits or '-', starting and ending with a letter or digit (it becomes part of a Kubernetes CronJob name)\n"
                + "  - " + dir.resolve("c.yaml") + ": cron: day-of-week field '7': 7 is not accepted by Kubernetes CronJobs; write 0 or SUN for Sunday\n"
                + "  - " + dir.resolve("c.yaml") + ": lockWait: 'soon' must be a duration (e.g. 0, 45s, 10m, 1h30m, 7d)\n"
                + "  - " + dir.resolve("c.yaml") + ": components: only for job backup, not verify");
    }

    @Test
    void aScheduleThatNeverFiresIsRefused() throws IOException {
        write("x.yaml", "name: never\ncron: '0 0 30 2 *'\njob: backup\n");

        assertThat(problems()).endsWith("x.yaml: cron: '0 0 30 2 *' never fires (no such day in the months it names)");
    }

    @Test
    void missingOrEmptyDirectory() throws IOException {
        DrException e = catchThrowableOfType(DrException.class, () -> new ScheduleLoader().load(dir.resolve("nope")));
        assertThat(e.getMessage()).isEqualTo("schedules directory " + dir.resolve("nope") + " not found: pass --schedules DIR");

        assertThat(problems()).isEqualTo("no schedule files (*.yaml) in " + dir);

        write("empty.yaml", "");
        assertThat(problems()).endsWith("empty.yaml: must be a YAML mapping with at least name, cron and job");
    }

    @Test
    void listingGivesTheNextFireTimesInTheScheduleZone() throws IOException {
        write("a.yaml", "name: nightly\ncron: '0 2 * * *'\ntimeZone: Asia/Shanghai\njob: backup\n");
        write("b.yaml", "name: redis\ncron: '*/30 * * * *'\njob: backup\ncomponents: [redis]\nenabled: false\n");

        ScheduleListing listing = ScheduleListing.of(new ScheduleLoader().load(dir), Instant.parse("2026-12-05T17:40:00Z"), 5);

        assertThat(listing.toText()).isEqualTo("""
                nightly: backup, cron '0 2 * * *' in Asia/Shanghai (a.yaml)
                  runs:  dify-dr backup
                  next:  2026-12-06 02:00 +08:00, 2026-12-07 02:00 +08:00, 2026-12-08 02:00 +08:00, 2026-12-09 02:00 +08:00, 2026-12-10 02:00 +08:00
                redis: backup, cron '*/30 * * * *' in UTC, DISABLED (b.yaml)
                  runs:  dify-dr backup --only redis
                  next:  2026-12-05 18:00 +00:00, 2026-12-05 18:30 +00:00, 2026-12-05 19:00 +00:00, 2026-12-05 19:30 +00:00, 2026-12-05 20:00 +00:00 (not run: disabled)
                """);
        assertThat(listing.schedules().get(0).next()).first().isEqualTo("2026-12-06T02:00+08:00");
        assertThat(listing.schedules().get(0).quartzCron()).isEqualTo("0 0 2 * * ?");
    }
}
