package dev.difydr.schedule;

import java.nio.file.Path;
import java.time.ZoneId;
import java.util.List;

/**
 * One validated schedule: when ({@code cron} in {@code zone}), what ({@code arguments}: the dify-dr command line of the
 * job, without the global options), and how missed fire times are handled.
 */
public record Schedule(String name, CronSchedule cron, ZoneId zone, JobKind job, boolean enabled, Misfire misfire,
                       List<String> arguments, Path source) {
    public Schedule {
        arguments = List.copyOf(arguments);
    }
}
