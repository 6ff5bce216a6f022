package dev.difydr.config;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as written in the configuration and schedule files: {@code 30s}, {@code 10m}, {@code 2h}, {@code 1h30m}, {@code 7d}. */
public final class DurationText {
    private static final Pattern FORM = Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");

    private DurationText() {
    }

    /** The duration, or empty when {@code text} is not of the form above (or is empty). */
    public static Optional<Duration> parse(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            Duration d = Duration.ZERO;
            long[] unitSeconds = {86400, 3600, 60, 1};
            for (int i = 0; i < 4; i++) {
                if (m.group(i + 1) != null) {
                    d = d.plusSeconds(Math.multiplyExact(Long.parseLong(m.group(i + 1)), unitSeconds[i]));
                }
            }
            return Optional.of(d);
        } catch (ArithmeticException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** What a problem message says a duration should look like. */
    public static final String EXPECTED = "a duration like 30s, 10m, 2h or 1h30m";
}
