package dev.difydr.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators write them: {@code 0}, {@code 45s}, {@code 10m}, {@code 1h30m}, {@code 7d} (units d, h, m, s,
 * largest first), or ISO-8601 ({@code PT10M}).
 */
public final class Durations {
    private static final Pattern SHORT = Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");

    private Durations() {
    }

    /** The duration, or empty when the text is not one. */
    public static Optional<Duration> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("0")) {
            return Optional.of(Duration.ZERO);
        }
        if (t.startsWith("p")) {
            try {
                Duration d = Duration.parse(t.toUpperCase(Locale.ROOT));
                return d.isNegative() ? Optional.empty() : Optional.of(d);
            } catch (java.time.format.DateTimeParseException e) {
                return Optional.empty();
            }
        }
        Matcher m = SHORT.matcher(t);
        if (t.isEmpty() || !m.matches()) {
            return Optional.empty();
        }
        try {
            Duration d = Duration.ZERO;
            long[] seconds = {86_400, 3_600, 60, 1};
            for (int i = 0; i < 4; i++) {
                if (m.group(i + 1) != null) {
                    d = d.plus(Duration.ofSeconds(Math.multiplyExact(Long.parseLong(m.group(i + 1)), seconds[i])));
                }
            }
            return Optional.of(d);
        } catch (ArithmeticException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** What a valid duration looks like, for messages. */
    public static final String EXAMPLES = "e.g. 0, 45s, 10m, 1h30m, 7d";

    /** Short text of a duration, the inverse of {@link #parse}: {@code 1h30m}, {@code 0}. */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0";
        }
        StringBuilder sb = new StringBuilder();
        long s = d.getSeconds();
        long[] units = {86_400, 3_600, 60, 1};
        String[] names = {"d", "h", "m", "s"};
        for (int i = 0; i < 4; i++) {
            if (s >= units[i]) {
                sb.append(s / units[i]).append(names[i]);
                s %= units[i];
            }
        }
        return sb.isEmpty() ? d.toMillis() + "ms" : sb.toString();
    }

    /** An age for people, to its two largest units: {@code 2d3h}, {@code 4h5m}, {@code 3m2s}; a negative one is {@code 0m0s}. */
    public static String coarse(Duration d) {
        if (d.toDays() > 0) {
            return d.toDays() + "d" + d.toHoursPart() + "h";
        }
        if (d.toHours() > 0) {
            return d.toHours() + "h" + d.toMinutesPart() + "m";
        }
        return Math.max(0, d.toMinutes()) + "m" + Math.max(0, d.toSecondsPart()) + "s";
    }
}
