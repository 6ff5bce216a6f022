package dev.difydr.retention;

import dev.difydr.config.Durations;
import java.time.Duration;

/** How old a run that never completed must be before prune deletes what it left: {@code 24h}, {@code 90m}, {@code 7d}. */
public final class GracePeriod {
    public static final String DEFAULT = "24h";

    private GracePeriod() {
    }

    /** Parses a duration ({@link Durations}); throws IllegalArgumentException saying what one looks like. */
    public static Duration parse(String text) {
        return Durations.parse(text).orElseThrow(() -> new IllegalArgumentException(
                "'" + text + "' is not a duration like 24h, 90m or 7d (d days, h hours, m minutes, s seconds)"));
    }
}
