package dev.difydr.retention;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.config.RetentionConfig;
import dev.difydr.retention.RetentionPolicy.Candidate;
import dev.difydr.retention.RetentionPolicy.Decision;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The policy over generated backup histories, compared with golden files in {@code src/test/resources/retention/}.
 * Run with {@code -Dgolden.update=true} to rewrite them after a deliberate change, then read the diff by hand.
 *
 * <p>Cases checked by hand against restic's rules when the files were written:
 * <ul>
 *   <li>utc-gaps-daily: keepLast 2 keeps b201 and b200. keepDaily 7 keeps b201 (03-29), b200 (the newer of two runs on
 *       03-28; b199 goes), b198 (newest of three on 03-27), b195, b194, b192, b191 (03-23): seven days that have a
 *       run. keepWeekly 5: b201 (Sunday 03-29, ISO week 13), b190 (Sunday 03-22, week 12), b177 (Saturday 03-14, the
 *       newer of two that day), b164, b161 (Sunday 03-01, week 9). keepMonthly 3: b201, b158 (02-28), b125 (the newer
 *       run of 01-30, no run on 01-31). keepYearly -1: b201, b074 (newest of 2025, 12-30) and the oldest backup b000,
 *       which restic keeps while a rule has count left.</li>
 *   <li>utc-gaps-hourly-within: within 3d of b201 (03-29T10:55Z) is after 03-26T10:55Z: b195 (03-26T12:05Z) is in,
 *       b194 (03-25) is out; keepMonthly -1 keeps the newest of each month and the oldest, b000, of the same month
 *       as b039.</li>
 *   <li>shanghai: buckets by Shanghai date: b062 (02-03T01:00+08:00) and b060 (02-02T23:53+08:00) are one UTC day
 *       but two Shanghai days, both kept daily; b077 shares the 00h bucket of 02-10 with b078 and goes from hourly;
 *       within 2d of 02-10T01:54+08:00 ends after b074 (02-09T00:16), b073 (02-08T01:10) is out. Weekly: b079 (week 7),
 *       b073 (Sunday 02-08, week 6), b057 (Sunday 02-01, week 5).</li>
 *   <li>berlin-autumn: in the repeated hour of 2026-10-25 the runs b148 (02:00+02:00), b149 (02:30+02:00), b150
 *       (02:00+01:00) and b151 (02:30+01:00) share the hourly bucket 2026102502: only the newest, b151, is kept hourly.
 *       keepWithin 1d counts back from 2026-10-25T12:00+01:00 to 2026-10-24T12:00+02:00, 25 hours: b120 at exactly that
 *       time is not after the cutoff and goes, b121 (12:30) stays. The 30th hourly is b111 (10-24T07:30). keepDaily 5
 *       finds only four days (25, 24, 23, 22) and so keeps the oldest, b000, too.</li>
 *   <li>berlin-spring: 2026-03-29 has no 02:xx, b147 (01:30+01:00) is followed by b148 (03:00+02:00); keepWithin 1d
 *       from 2026-03-29T12:00+02:00 reaches back to 2026-03-28T12:00+01:00, 23 hours: b120 goes, b121 stays.</li>
 * </ul>
 */
class RetentionPolicyGoldenTest {
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ISO_OFFSET_DATE_TIME;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("utc-gaps-daily", utcGaps(), policy("UTC", "keepLast", 2, "keepDaily", 7, "keepWeekly", 5, "keepMonthly", 3, "keepYearly", -1)),
                Arguments.of("utc-gaps-hourly-within", utcGaps(), policy("UTC", "keepHourly", 5, "keepWithin", "3d", "keepMonthly", -1)),
                Arguments.of("shanghai", shanghai(), policy("Asia/Shanghai", "keepHourly", 4, "keepDaily", 10, "keepWeekly", 3, "keepWithin", "2d")),
                Arguments.of("berlin-spring", berlin(LocalDate.of(2026, 3, 26), ZonedDateTime.of(2026, 3, 29, 12, 0, 0, 0, BERLIN)),
                        policy("Europe/Berlin", "keepHourly", 30, "keepDaily", 5, "keepWithin", "1d")),
                Arguments.of("berlin-autumn", berlin(LocalDate.of(2026, 10, 22), ZonedDateTime.of(2026, 10, 25, 12, 0, 0, 0, BERLIN)),
                        policy("Europe/Berlin", "keepHourly", 30, "keepDaily", 5, "keepWithin", "1d")));
    }

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheGoldenFile(String name, List<Candidate> history, RetentionConfig config) throws IOException {
        RetentionPolicy policy = RetentionPolicy.of(config);
        String actual = render(policy, policy.apply(history, Instant.parse("2027-01-01T00:00:00Z")));
        String file = "retention/" + name + ".txt";
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(Path.of("src/test/resources", file), actual, StandardCharsets.UTF_8);
        }
        String expected;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(file)) {
            assertThat(in).as("golden file " + file + " (write it with -Dgolden.update=true)").isNotNull();
            expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(actual).as(file).isEqualTo(expected);
    }

    private static String render(RetentionPolicy policy, List<Decision> decisions) {
        StringBuilder sb = new StringBuilder("# " + policy.describe() + "\n");
        for (Decision d : decisions) {
            sb.append(String.format(Locale.ROOT, "%s  %-25s  %-6s  %s%n", d.backup().id(), LOCAL.format(d.backup().time().atZone(policy.zone())),
                    d.keep() ? "keep" : "remove", String.join(", ", d.reasons())));
        }
        return sb.toString();
    }

    /** About five months in UTC: some days without a run, some with two or three, at irregular times. */
    static List<Candidate> utcGaps() {
        SplittableRandom random = new SplittableRandom(7);
        List<Candidate> out = new ArrayList<>();
        LocalDate day = LocalDate.of(2025, 11, 1);
        while (!day.isAfter(LocalDate.of(2026, 3, 30))) {
            int runs = random.nextInt(10) < 3 ? 0 : 1 + random.nextInt(3);
            List<Integer> minutes = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                minutes.add(random.nextInt(24 * 60));
            }
            LocalDate d = day;
            minutes.stream().sorted().forEach(m -> out.add(candidate(out.size(), d.atStartOfDay(ZoneId.of("UTC")).plusMinutes(m).toInstant())));
            day = day.plusDays(1);
        }
        return out;
    }

    /** Six weeks of runs around Shanghai's midnight (15:00-17:59 UTC), one to three a night. */
    static List<Candidate> shanghai() {
        SplittableRandom random = new SplittableRandom(11);
        List<Candidate> out = new ArrayList<>();
        for (LocalDate day = LocalDate.of(2026, 1, 1); day.isBefore(LocalDate.of(2026, 2, 10)); day = day.plusDays(1)) {
            int runs = 1 + random.nextInt(3);
            List<Integer> minutes = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                minutes.add(15 * 60 + random.nextInt(180));
            }
            LocalDate d = day;
            minutes.stream().sorted().forEach(m -> out.add(candidate(out.size(), d.atStartOfDay(ZoneId.of("UTC")).plusMinutes(m).toInstant())));
        }
        return out;
    }

    /** A run every 30 minutes of real time from {@code from} (Berlin midnight) to {@code until}, across a DST change. */
    static List<Candidate> berlin(LocalDate from, ZonedDateTime until) {
        List<Candidate> out = new ArrayList<>();
        for (Instant t = from.atStartOfDay(BERLIN).toInstant(); !t.isAfter(until.toInstant()); t = t.plusSeconds(1800)) {
            out.add(candidate(out.size(), t));
        }
        return out;
    }

    private static Candidate candidate(int n, Instant time) {
        return new Candidate(String.format(Locale.ROOT, "b%03d", n), time, false);
    }

    /** A configuration from key/value pairs. */
    static RetentionConfig policy(String zone, Object... pairs) {
        Integer[] counts = new Integer[6];
        String within = null;
        List<String> names = List.of("keepLast", "keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly");
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i].equals("keepWithin")) {
                within = (String) pairs[i + 1];
            } else {
                counts[names.indexOf((String) pairs[i])] = (Integer) pairs[i + 1];
            }
        }
        return new RetentionConfig(counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], within, null, zone, null);
    }
}
