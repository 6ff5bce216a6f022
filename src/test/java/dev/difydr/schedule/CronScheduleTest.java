package dev.difydr.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class CronScheduleTest {
    private static final ZoneId UTC = ZoneId.of("UTC");

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0 2 * * *            | 0 0 2 * * ?",
            "*/15 * * * *         | 0 0,15,30,45 * * * ?",
            "5/20 1-3 * * *       | 0 5,25,45 1-3 * * ?",
            "0 3 * * 1-5          | 0 0 3 ? * 2-6",
            "0 3 * * MON-FRI      | 0 0 3 ? * 2-6",
            "0 3 * * sun,sat      | 0 0 3 ? * 1,7",
            "0 3 * * */2          | 0 0 3 ? * 1,3,5,7",
            "0 0 1 jan,APR,7,10 * | 0 0 0 1 1,4,7,10 ?",
            "0 0 1,15 * *         | 0 0 0 1,15 * ?",
            "0 0 ? * 0            | 0 0 0 ? * 1",
            "0 0 1 * 0-6          | 0 0 0 * * ?",
            "0 0 */1 * 3          | 0 0 0 ? * 4",
            "@hourly              | 0 0 * * * ?",
            "@daily               | 0 0 0 * * ?",
            "@midnight            | 0 0 0 * * ?",
            "@weekly              | 0 0 0 ? * 1",
            "@monthly             | 0 0 0 1 * ?",
            "@yearly              | 0 0 0 1 1 ?",
            "@annually            | 0 0 0 1 1 ?",
    })
    void convertsToQuartz(String cron, String quartz) {
        assertThat(CronSchedule.parse(cron).quartz()).isEqualTo(quartz);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0 2 * *                | '0 2 * *' has 4 fields; give exactly five: minute hour day-of-month month day-of-week (e.g. \"0 3 * * *\")",
            "0 0 2 * * *            | '0 0 2 * * *' has 6 fields; give exactly five: minute hour day-of-month month day-of-week (e.g. \"0 3 * * *\") — a seconds field is not accepted by Kubernetes",
            "60 2 * * *             | minute field '60': 60 is out of range 0-59",
            "0 24 * * *             | hour field '24': 24 is out of range 0-23",
            "0 0 0 * *              | day-of-month field '0': 0 is out of range 1-31",
            "0 0 * 13 *             | month field '13': 13 is out of range 1-12",
            "0 0 * * 7              | day-of-week field '7': 7 is not accepted by Kubernetes CronJobs; write 0 or SUN for Sunday",
            "0 0 * * MOO            | day-of-week field 'MOO': 'MOO' is not a number or a name (SUN-SAT)",
            "0 0 * jam *            | month field 'jam': 'jam' is not a number or a name (JAN-DEC)",
            "*/0 * * * *            | minute field '*/0': step '0' must be a positive whole number",
            "0 5-2 * * *            | hour field '5-2': range 5-2 runs backwards; Kubernetes does not wrap around",
            "0 1-2-3 * * *          | hour field '1-2-3': '1-2-3' is not a value, a range a-b or a step x/n",
            "0 0 L * *              | day-of-month field 'L': 'L' is not a number",
            "@every 5m              | '@every 5m' is not a known macro; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly (@every has no cron equivalent: write the five fields)",
            "TZ=UTC 0 2 * * *       | 'TZ=UTC 0 2 * * *': give the time zone as timeZone, not inside cron (Kubernetes refuses TZ= in a CronJob's schedule)",
            "0 0 1 * 1              | '0 0 1 * 1' restricts both day-of-month (1) and day-of-week (1): Kubernetes then fires on days matching either, which one Quartz trigger cannot express; write '*' in one of the two, or split it into two schedules",
    })
    void refusesWithTheFieldNamed(String cron, String message) {
        CronSchedule.InvalidCron e = catchThrowableOfType(CronSchedule.InvalidCron.class, () -> CronSchedule.parse(cron));
        assertThat(e).as(cron).isNotNull();
        assertThat(e.problems()).containsExactly(message);
    }

    @Test
    void reportsEveryBadField() {
        CronSchedule.InvalidCron e = catchThrowableOfType(CronSchedule.InvalidCron.class, () -> CronSchedule.parse("61 25 * * *"));
        assertThat(e.problems()).containsExactly("minute field '61': 61 is out of range 0-59", "hour field '25': 25 is out of range 0-23");
    }

    /**
     * A cron expression and, written out by hand, the values each of its fields matches (null: every value, as a '*'
     * in that field), and whether Kubernetes ORs the two day fields. The expected fire times are found by walking the
     * minutes of the calendar and matching them against those sets.
     */
    static Stream<Arguments> expressions() {
        return Stream.of(
                Arguments.of("0 2 * * *", Set.of(0), Set.of(2), null, null, null),
                Arguments.of("*/20 9-17 * * 1-5", Set.of(0, 20, 40), range(9, 17), null, null, Set.of(1, 2, 3, 4, 5)),
                Arguments.of("15 * * * *", Set.of(15), null, null, null, null),
                Arguments.of("0 6 1 1,4,7,10 *", Set.of(0), Set.of(6), Set.of(1), Set.of(1, 4, 7, 10), null),
                Arguments.of("30 4 */10 * *", Set.of(30), Set.of(4), Set.of(1, 11, 21, 31), null, null),
                Arguments.of("0 5 * * SUN", Set.of(0), Set.of(5), null, null, Set.of(0)),
                Arguments.of("0 12 * * */3", Set.of(0), Set.of(12), null, null, Set.of(0, 3, 6)),
                Arguments.of("45 23 29 2 *", Set.of(45), Set.of(23), Set.of(29), Set.of(2), null),
                Arguments.of("0 0 31 * *", Set.of(0), Set.of(0), Set.of(31), null, null),
                Arguments.of("7 8 * dec fri", Set.of(7), Set.of(8), null, Set.of(12), Set.of(5)),
                Arguments.of("@weekly", Set.of(0), Set.of(0), null, null, Set.of(0)),
                Arguments.of("@monthly", Set.of(0), Set.of(0), Set.of(1), null, null));
    }

    private static Set<Integer> range(int from, int to) {
        return IntStream.rangeClosed(from, to).boxed().collect(Collectors.toSet());
    }

    @ParameterizedTest
    @MethodSource("expressions")
    void fireTimesMatchTheCalendar(String cron, Set<Integer> minutes, Set<Integer> hours, Set<Integer> days, Set<Integer> months,
                                   Set<Integer> weekdays) {
        for (ZoneId zone : List.of(UTC, ZoneId.of("Asia/Kolkata"), ZoneId.of("America/Sao_Paulo"))) {
            Instant from = LocalDateTime.parse("2027-11-20T10:00").atZone(zone).toInstant();
            List<Instant> expected = walk(from, zone, 12, minutes, hours, days, months, weekdays);
            assertThat(expected).as("fire times found by the walk").hasSizeGreaterThanOrEqualTo(2);

            assertThat(CronSchedule.parse(cron).next(zone, from, expected.size())).as("%s in %s", cron, zone).isEqualTo(expected);
        }
    }

    /** Fire times after {@code from}: every minute of the local calendar whose fields are in the sets. */
    private static List<Instant> walk(Instant from, ZoneId zone, int count, Set<Integer> minutes, Set<Integer> hours, Set<Integer> days,
                                      Set<Integer> months, Set<Integer> weekdays) {
        List<Instant> out = new ArrayList<>();
        ZonedDateTime t = from.atZone(zone).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        ZonedDateTime end = t.plusYears(5);
        while (out.size() < count && t.isBefore(end)) {
            int weekday = t.getDayOfWeek() == DayOfWeek.SUNDAY ? 0 : t.getDayOfWeek().getValue();
            if (in(minutes, t.getMinute()) && in(hours, t.getHour()) && in(days, t.getDayOfMonth()) && in(months, t.getMonthValue())
                    && in(weekdays, weekday)) {
                out.add(t.toInstant());
            }
            t = t.plusMinutes(1);
        }
        return out;
    }

    private static boolean in(Set<Integer> set, int value) {
        return set == null || set.contains(value);
    }

    @Test
    void aMonthWithoutTheDayNeverFires() {
        assertThat(CronSchedule.parse("0 0 30 2 *").next(UTC, Instant.parse("2026-01-01T00:00:00Z"), 1)).isEmpty();
    }

    @Test
    void fireTimesAreInTheScheduleZone() {
        // 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer
        List<Instant> next = CronSchedule.parse("0 2 * * *").next(ZoneId.of("Europe/Berlin"), Instant.parse("2027-03-25T12:00:00Z"), 2);
        assertThat(next).containsExactly(Instant.parse("2027-03-26T01:00:00Z"), Instant.parse("2027-03-27T01:00:00Z"));
        next = CronSchedule.parse("0 2 * * *").next(ZoneId.of("Europe/Berlin"), Instant.parse("2027-04-05T12:00:00Z"), 1);
        assertThat(next).containsExactly(Instant.parse("2027-04-06T00:00:00Z"));
    }

    /** Documented in the README: a local time that the clocks skip does not fire that day. */
    @Test
    void aTimeSkippedByDaylightSavingDoesNotFireThatDay() {
        List<Instant> next = CronSchedule.parse("30 2 * * *").next(ZoneId.of("Europe/Berlin"), Instant.parse("2027-03-27T12:00:00Z"), 2);
        // 2027-03-28 02:30 does not exist in Berlin (02:00 -> 03:00)
        assertThat(next).containsExactly(Instant.parse("2027-03-29T00:30:00Z"), Instant.parse("2027-03-30T00:30:00Z"));
    }
}
