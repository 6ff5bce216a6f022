package dev.difydr.schedule;

import java.text.ParseException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import org.quartz.CronExpression;

/**
 * A schedule's {@code cron}: five fields exactly as a Kubernetes CronJob takes them (robfig/cron's standard parser:
 * minute, hour, day of month, month, day of week 0-6 with 0 = Sunday, names {@code JAN}-{@code DEC} and
 * {@code SUN}-{@code SAT}, {@code *}, {@code ?}, lists, ranges, steps), or one of the macros {@code @yearly @annually
 * @monthly @weekly @daily @midnight @hourly}; and the same schedule as a Quartz cron expression (a seconds field,
 * {@code ?} in one of the two day fields, days of week 1-7 = SUN-SAT).
 * <p>
 * When both day fields are restricted, Kubernetes fires on days matching <em>either</em>; one Quartz trigger cannot say
 * that, so such an expression is refused unless one of the two already covers every day.
 */
public final class CronSchedule {
    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *", "@weekly", "0 0 * * 0",
            "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");
    private static final List<String> MONTHS = List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec");
    private static final List<String> DAYS = List.of("sun", "mon", "tue", "wed", "thu", "fri", "sat");

    private enum Field {
        MINUTE("minute", 0, 59, List.of()),
        HOUR("hour", 0, 23, List.of()),
        DAY_OF_MONTH("day-of-month", 1, 31, List.of()),
        MONTH("month", 1, 12, MONTHS),
        DAY_OF_WEEK("day-of-week", 0, 6, DAYS);

        final String label;
        final int min;
        final int max;
        final List<String> names;

        Field(String label, int min, int max, List<String> names) {
            this.label = label;
            this.min = min;
            this.max = max;
            this.names = names;
        }
    }

    /** The values a field matches, and whether it was written as {@code *} or {@code ?} (which robfig/cron treats apart). */
    private record Values(BitSet set, boolean star) {
    }

    private final String cron;
    private final String quartz;

    private CronSchedule(String cron, String quartz) {
        this.cron = cron;
        this.quartz = quartz;
    }

    /** Thrown with every problem of one expression, each a sentence that names the field. */
    public static final class InvalidCron extends IllegalArgumentException {
        private final List<String> problems;

        InvalidCron(List<String> problems) {
            super(String.join("; ", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    public static CronSchedule parse(String cron) {
        if (cron == null || cron.isBlank()) {
            throw new InvalidCron(List.of("missing required key (five fields like \"0 3 * * *\", or @daily, @weekly, ...)"));
        }
        String text = cron.trim();
        if (text.startsWith("TZ=") || text.startsWith("CRON_TZ=")) {
            throw new InvalidCron(List.of("'" + text + "': give the time zone as timeZone, not inside cron (Kubernetes refuses TZ= in a CronJob's schedule)"));
        }
        String fields = text;
        if (text.startsWith("@")) {
            fields = MACROS.get(text.toLowerCase(Locale.ROOT));
            if (fields == null) {
                throw new InvalidCron(List.of("'" + text + "' is not a known macro; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"
                        + (text.startsWith("@every") ? " (@every has no cron equivalent: write the five fields)" : "")));
            }
        }
        String[] parts = fields.split("\\s+");
        if (parts.length != 5) {
            throw new InvalidCron(List.of("'" + text + "' has " + parts.length + " field" + (parts.length == 1 ? "" : "s")
                    + "; give exactly five: minute hour day-of-month month day-of-week (e.g. \"0 3 * * *\")"
                    + (parts.length == 6 ? " — a seconds field is not accepted by Kubernetes" : "")));
        }
        List<String> problems = new ArrayList<>();
        Values[] values = new Values[5];
        for (Field f : Field.values()) {
            values[f.ordinal()] = field(f, parts[f.ordinal()], problems);
        }
        if (!problems.isEmpty()) {
            throw new InvalidCron(problems);
        }
        Values dom = values[Field.DAY_OF_MONTH.ordinal()];
        Values dow = values[Field.DAY_OF_WEEK.ordinal()];
        String quartzDom;
        String quartzDow;
        if (dom.star() || dow.star()) {
            // robfig/cron: a star in either day field makes the two an AND, and the star matches every day
            quartzDom = dom.star() ? (dow.star() ? "*" : "?") : list(dom.set(), Field.DAY_OF_MONTH, 0);
            quartzDow = dom.star() && !dow.star() ? list(dow.set(), Field.DAY_OF_WEEK, 1) : "?";
        } else if (full(dom.set(), Field.DAY_OF_MONTH) || full(dow.set(), Field.DAY_OF_WEEK)) {
            // an OR with every day is every day
            quartzDom = "*";
            quartzDow = "?";
        } else {
            throw new InvalidCron(List.of("'" + text + "' restricts both day-of-month (" + parts[2] + ") and day-of-week (" + parts[4]
                    + "): Kubernetes then fires on days matching either, which one Quartz trigger cannot express;"
                    + " write '*' in one of the two, or split it into two schedules"));
        }
        String quartz = "0 " + list(values[0].set(), Field.MINUTE, 0) + " " + list(values[1].set(), Field.HOUR, 0) + " "
                + quartzDom + " " + list(values[3].set(), Field.MONTH, 0) + " " + quartzDow;
        return new CronSchedule(text, quartz);
    }

    private static Values field(Field f, String text, List<String> problems) {
        BitSet set = new BitSet();
        boolean star = false;
        int before = problems.size();
        for (String part : text.split(",", -1)) {
            String[] rangeAndStep = part.split("/", -1);
            String[] lowHigh = rangeAndStep[0].split("-", -1);
            if (part.isEmpty() || rangeAndStep.length > 2 || lowHigh.length > 2) {
                problems.add(f.label + " field '" + text + "': '" + part + "' is not a value, a range a-b or a step x/n");
                continue;
            }
            int start;
            int end;
            boolean partStar = lowHigh[0].equals("*") || lowHigh[0].equals("?");
            if (partStar) {
                if (lowHigh.length == 2) {
                    problems.add(f.label + " field '" + text + "': '" + part + "' is not a value, a range a-b or a step x/n");
                    continue;
                }
                start = f.min;
                end = f.max;
            } else {
                Integer low = value(f, text, lowHigh[0], problems);
                Integer high = lowHigh.length == 2 ? value(f, text, lowHigh[1], problems) : low;
                if (low == null || high == null) {
                    continue;
                }
                start = low;
                end = high;
            }
            int step = 1;
            if (rangeAndStep.length == 2) {
                if (!rangeAndStep[1].matches("\\d{1,6}") || Integer.parseInt(rangeAndStep[1]) == 0) {
                    problems.add(f.label + " field '" + text + "': step '" + rangeAndStep[1] + "' must be a positive whole number");
                    continue;
                }
                step = Integer.parseInt(rangeAndStep[1]);
                if (lowHigh.length == 1) {
                    end = f.max; // "N/step" means N to the end of the range
                }
                if (step > 1) {
                    partStar = false;
                }
            }
            if (start > end) {
                problems.add(f.label + " field '" + text + "': range " + rangeAndStep[0] + " runs backwards; Kubernetes does not wrap around");
                continue;
            }
            for (int v = start; v <= end; v += step) {
                set.set(v);
            }
            star |= partStar;
        }
        return problems.size() > before ? null : new Values(set, star);
    }

    private static Integer value(Field f, String fieldText, String token, List<String> problems) {
        int v;
        int named = f.names.indexOf(token.toLowerCase(Locale.ROOT));
        if (named >= 0) {
            v = named + f.min;
        } else if (token.matches("\\d{1,4}")) {
            v = Integer.parseInt(token);
        } else {
            problems.add(f.label + " field '" + fieldText + "': '" + token + "' is not a number"
                    + (f.names.isEmpty() ? "" : " or a name (" + f.names.get(0).toUpperCase(Locale.ROOT) + "-"
                    + f.names.get(f.names.size() - 1).toUpperCase(Locale.ROOT) + ")"));
            return null;
        }
        if (f == Field.DAY_OF_WEEK && v == 7) {
            problems.add(f.label + " field '" + fieldText + "': 7 is not accepted by Kubernetes CronJobs; write 0 or SUN for Sunday");
            return null;
        }
        if (v < f.min || v > f.max) {
            problems.add(f.label + " field '" + fieldText + "': " + v + " is out of range " + f.min + "-" + f.max);
            return null;
        }
        return v;
    }

    private static boolean full(BitSet set, Field f) {
        return set.cardinality() == f.max - f.min + 1;
    }

    /** Quartz's text for a set of values: '*' when full, else runs of three or more as ranges; {@code shift} maps days of week. */
    private static String list(BitSet set, Field f, int shift) {
        if (full(set, f)) {
            return "*";
        }
        List<String> out = new ArrayList<>();
        for (int v = set.nextSetBit(0); v >= 0; ) {
            int end = v;
            while (set.get(end + 1)) {
                end++;
            }
            if (end - v >= 2) {
                out.add((v + shift) + "-" + (end + shift));
            } else {
                for (int x = v; x <= end; x++) {
                    out.add(String.valueOf(x + shift));
                }
            }
            v = set.nextSetBit(end + 1);
        }
        return String.join(",", out);
    }

    /** The expression as written in the schedule file. */
    public String cron() {
        return cron;
    }

    /** The same schedule as a Quartz cron expression. */
    public String quartz() {
        return quartz;
    }

    /** Quartz's expression evaluated in {@code zone}. */
    public CronExpression expression(ZoneId zone) {
        try {
            CronExpression e = new CronExpression(quartz);
            e.setTimeZone(TimeZone.getTimeZone(zone));
            return e;
        } catch (ParseException e) {
            throw new IllegalStateException("Quartz refused the converted expression '" + quartz + "' of '" + cron + "'", e);
        }
    }

    /** The next {@code count} fire times strictly after {@code after}, fewer when the expression stops firing. */
    public List<Instant> next(ZoneId zone, Instant after, int count) {
        CronExpression e = expression(zone);
        List<Instant> out = new ArrayList<>();
        Date t = Date.from(after);
        while (out.size() < count && (t = e.getNextValidTimeAfter(t)) != null) {
            out.add(t.toInstant());
        }
        return out;
    }

    @Override
    public String toString() {
        return cron;
    }
}
