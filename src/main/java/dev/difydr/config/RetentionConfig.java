package dev.difydr.config;

/**
 * Which completed backups {@code prune} keeps, with restic's meanings, counted in {@code timeZone} (the deployment's,
 * UTC when unset). A null count is "no such rule"; {@code -1} is "unlimited". {@code keepWithin} is a duration such as
 * {@code 1y2m3d4h} measured back from the newest backup. {@code minKeep}: never fewer than this many completed backups that
 * passed verify. {@code gracePeriod} (default {@code 24h}): how old a failed or unfinished run must be before its objects
 * are deleted.
 */
public record RetentionConfig(
        Integer keepLast,
        Integer keepHourly,
        Integer keepDaily,
        Integer keepWeekly,
        Integer keepMonthly,
        Integer keepYearly,
        String keepWithin,
        Integer minKeep,
        String timeZone,
        String gracePeriod) {

    public static final RetentionConfig NONE = new RetentionConfig(null, null, null, null, null, null, null, null, null, null);

    /** This configuration with every key that {@code override} sets replaced by its value (a schedule's or the command line's). */
    public RetentionConfig overriddenBy(RetentionConfig override) {
        return new RetentionConfig(
                pick(override.keepLast, keepLast), pick(override.keepHourly, keepHourly), pick(override.keepDaily, keepDaily),
                pick(override.keepWeekly, keepWeekly), pick(override.keepMonthly, keepMonthly), pick(override.keepYearly, keepYearly),
                pick(override.keepWithin, keepWithin), pick(override.minKeep, minKeep), pick(override.timeZone, timeZone),
                pick(override.gracePeriod, gracePeriod));
    }

    private static <T> T pick(T override, T value) {
        return override != null ? override : value;
    }
}
