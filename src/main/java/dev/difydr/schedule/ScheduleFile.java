package dev.difydr.schedule;

import java.util.List;

/**
 * The keys of one schedule file, as written; {@link ScheduleLoader} validates them into a {@link Schedule}. Option keys
 * belong to one job each: {@code components} to backup, {@code readData} to verify and drill, {@code strict} to drill,
 * {@code retention} to prune; {@code lockWait} to all four.
 */
record ScheduleFile(
        String name,
        String cron,
        String timeZone,
        String job,
        Boolean enabled,
        String misfire,
        String lockWait,
        List<String> components,
        Boolean readData,
        Boolean strict,
        Retention retention) {

    /** Overrides of the configuration's retention for one prune, passed as prune's {@code --keep-*} flags. */
    record Retention(Integer keepLast, Integer keepHourly, Integer keepDaily, Integer keepWeekly, Integer keepMonthly,
                     Integer keepYearly, String keepWithin, Integer minKeep) {

        dev.difydr.config.RetentionConfig asConfig() {
            return new dev.difydr.config.RetentionConfig(keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly,
                    keepWithin, minKeep, null, null);
        }
    }
}
