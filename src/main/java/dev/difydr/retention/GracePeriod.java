package dev.difydr.retention;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How old a run that never completed must be before prune deletes what it left: {@code 24h}, {@code 90m}, {@code 7d}. */
public final class GracePeriod {
    public static final String DEFAULT = "24h";
    private static final Pattern WHOLE = Pattern.compile("(\\d{1,9}[dhms])+");
    private static final Pattern PART = Pattern.compile("(\\d{1,9})([dhms])");

    private GracePeriod() {
    }

    /** Parses {@code 7d}, {@code 24h}, {@code 90m}, {@code 1h30m}, {@code 45s}; throws IllegalArgumentException. */
    public static Duration parse(String text) {
        if (text == null || !WHOLE.matcher(text.strip()).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration like 24h, 90m or 7d (d days, h hours, m minutes, s seconds)");
        }
        Duration total = Duration.ZERO;
        Matcher part = PART.matcher(text.strip());
        while (part.find()) {
            long n = Long.parseLong(part.group(1));
            total = total.plus(switch (part.group(2)) {
                case "d" -> Duration.ofDays(n);
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
            });
        }
        return total;
    }
}
