package dev.difydr.retention;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.testsupport.PostgresServer;
import dev.difydr.testsupport.SlowPgDump;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real backups taken at chosen past times (the process clock moved by libfaketime, as an operator's history would
 * have them), one killed half-way, then {@code prune --yes} a day later: {@code list} must hold exactly what restic's
 * rules, computed here independently, keep; the killed run's objects, its unfinished upload and its lock must be gone.
 */
class PruneFakedClockIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ZoneId ZONE = ZoneId.of("Asia/Shanghai");
    /** Several a day, days apart, and two that share a UTC day but not a Shanghai one. */
    private static final List<String> TIMES = List.of(
            "2026-11-02 02:00:00", "2026-11-09 10:00:00", "2026-11-13 15:00:00", "2026-11-15 01:00:00",
            "2026-11-16 15:30:00", "2026-11-16 16:30:00", "2026-11-17 03:00:00", "2026-11-17 09:00:00",
            "2026-11-18 12:00:00", "2026-11-18 23:00:00", "2026-11-19 05:00:00");

    private static PostgresServer pg;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws IOException {
        pg = PostgresServer.start();
        pg.createDatabase("dify");
        pg.psql("dify", "-c", "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 100) g");
        Files.writeString(dir.resolve("pg-password"), pg.password() + "\n");
        SlowPgDump.install(dir.resolve("slow-bin"), 60);
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    private Path config(String name, String binDir) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, """
                repository:
                  url: %s
                postgres:
                  host: %s
                  port: %d
                  user: %s
                  password: "${file:%s}"
                  databases: [dify]
                %s
                retention: {keepLast: 2, keepDaily: 3, keepWeekly: 2, keepMonthly: 2, timeZone: Asia/Shanghai}
                """.formatted(dir.resolve("repo").toUri(), pg.host(), pg.port(), pg.user(), dir.resolve("pg-password"),
                binDir == null ? "" : "  binDir: " + binDir));
        return file;
    }

    /** {@code dify-dr ARGS} with the clock at {@code fake} (a faketime time stamp, in UTC). */
    private static ProcessBuilder at(String fake, Path config, String... args) {
        List<String> cmd = new ArrayList<>(fake.startsWith("+") ? List.of("faketime", "-f", fake) : List.of("faketime", fake));
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.difydr.Main", "--config", config.toString(), "--json"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("TZ", "UTC");
        return pb;
    }

    private static String run(ProcessBuilder pb, Path err) throws Exception {
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(err)).isZero();
        return out;
    }

    @Test
    void pruneKeepsExactlyWhatRestic() throws Exception {
        Path config = config("dify-dr.yaml", null);
        List<Instant> taken = new ArrayList<>();
        for (String time : TIMES) {
            JsonNode backup = JSON.readTree(run(at(time, config, "backup"), dir.resolve("backup.err")));
            assertThat(backup.get("status").asText()).isEqualTo("completed");
            assertThat(backup.get("id").asText()).startsWith(time.substring(0, 10).replace("-", ""));
            taken.add(Instant.parse(time.replace(' ', 'T') + "Z"));
        }
        // a backup killed while it dumps: an unfinished upload and its lock are left behind
        Process killed = at("2026-11-20 06:00:00", config("slow.yaml", dir.resolve("slow-bin").toString()), "backup")
                .redirectError(dir.resolve("killed.err").toFile()).start();
        Path locks = dir.resolve("repo/dify/locks");
        while (!Files.isDirectory(locks) || listing(locks).isEmpty()) {
            assertThat(killed.isAlive()).as("the slow backup runs").isTrue();
            Thread.sleep(50);
        }
        while (partials().isEmpty()) {
            assertThat(killed.isAlive()).as("the slow backup runs").isTrue();
            Thread.sleep(50);
        }
        killed.destroyForcibly().waitFor();
        assertThat(listing(locks)).hasSize(1);

        // a day after the kill, by the real clock: the killed run is past the 24 h grace period
        String prune = run(at("+25h", config, "prune", "--yes"), dir.resolve("prune.err"));
        assertThat(Files.readString(dir.resolve("prune.err"))).contains("removing the stale lock");
        JsonNode plan = JSON.readTree(prune);
        assertThat(plan.get("dryRun").asBoolean()).isFalse();

        List<String> expected = resticKeeps(taken).stream().map(t -> t.toString().replace("-", "").replace(":", "").substring(0, 13))
                .toList();
        JsonNode list = JSON.readTree(run(at("+25h", config, "list", "--all"), dir.resolve("list.err")));
        List<String> listed = new ArrayList<>();
        list.get("backups").forEach(b -> {
            assertThat(b.get("status").asText()).isEqualTo("completed");
            // to the minute: the clock runs on from the faked start while the JVM starts
            listed.add(b.get("id").asText().substring(0, 13));
        });
        assertThat(listed).containsExactlyElementsOf(expected);
        assertThat(plan.get("kept").asInt()).isEqualTo(expected.size());
        assertThat(plan.get("removed").asInt()).isEqualTo(TIMES.size() - expected.size());
        try (Stream<Path> all = Files.walk(dir.resolve("repo"))) {
            assertThat(all.filter(Files::isRegularFile).map(Path::toString)).noneMatch(p -> p.contains(".partial-")).noneMatch(p -> p.contains("/locks/"));
        }
    }

    private static List<Path> partials() throws IOException {
        try (Stream<Path> all = Files.walk(dir.resolve("repo"))) {
            return all.filter(p -> p.getFileName().toString().contains(".partial-")).toList();
        }
    }

    private static List<Path> listing(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }

    /** restic's ApplyPolicy for keep-last 2, daily 3, weekly 2, monthly 2 in Shanghai time; newest first. */
    private static List<Instant> resticKeeps(List<Instant> times) {
        List<Instant> newestFirst = new ArrayList<>(times);
        newestFirst.sort(java.util.Comparator.reverseOrder());
        List<Function<ZonedDateTime, Integer>> buckers = List.of(
                t -> t.getYear() * 10000 + t.getMonthValue() * 100 + t.getDayOfMonth(),
                t -> t.get(IsoFields.WEEK_BASED_YEAR) * 100 + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR),
                t -> t.getYear() * 100 + t.getMonthValue());
        int[] counts = {3, 2, 2};
        int[] last = {-1, -1, -1};
        List<Instant> keep = new ArrayList<>();
        for (int nr = 0; nr < newestFirst.size(); nr++) {
            ZonedDateTime t = newestFirst.get(nr).atZone(ZONE);
            boolean kept = nr < 2;
            for (int i = 0; i < 3; i++) {
                int val = buckers.get(i).apply(t);
                if (counts[i] > 0 && (val != last[i] || nr == newestFirst.size() - 1)) {
                    kept = true;
                    last[i] = val;
                    counts[i]--;
                }
            }
            if (kept) {
                keep.add(newestFirst.get(nr));
            }
        }
        return keep;
    }
}
