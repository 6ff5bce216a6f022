package dev.difydr.schedule;

import dev.difydr.Printable;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** {@code schedule --list}: every schedule with its next fire times in its own time zone. */
public record ScheduleListing(List<Entry> schedules) implements Printable {
    private static final DateTimeFormatter TEXT_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm xxx");

    /** One schedule; {@code next} as ISO-8601 times with the zone's offset; {@code command} the job's dify-dr arguments. */
    public record Entry(String name, String job, String cron, String quartzCron, String timeZone, boolean enabled, String misfire,
                        List<String> command, String file, List<String> next) {
    }

    public static ScheduleListing of(List<Schedule> schedules, Instant now, int count) {
        return new ScheduleListing(schedules.stream().map(s -> new Entry(s.name(), s.job().command(), s.cron().cron(), s.cron().quartz(),
                s.zone().getId(), s.enabled(), s.misfire().word(), s.arguments(), s.source().getFileName().toString(),
                s.cron().next(s.zone(), now, count).stream().map(t -> t.atZone(s.zone()).toOffsetDateTime().toString()).toList())).toList());
    }

    @Override
    public String toText() {
        StringBuilder sb = new StringBuilder();
        for (Entry e : schedules) {
            sb.append(e.name()).append(": ").append(e.job()).append(", cron '").append(e.cron()).append("' in ").append(e.timeZone())
                    .append(e.enabled() ? "" : ", DISABLED").append(" (").append(e.file()).append(")\n");
            sb.append("  runs:  dify-dr ").append(String.join(" ", e.command())).append("\n");
            sb.append("  next:  ");
            ZoneId zone = ZoneId.of(e.timeZone());
            List<String> times = e.next().stream().map(t -> TEXT_TIME.format(java.time.OffsetDateTime.parse(t).atZoneSameInstant(zone))).toList();
            sb.append(times.isEmpty() ? "never" : String.join(", ", times)).append(e.enabled() ? "" : " (not run: disabled)").append("\n");
        }
        return sb.toString();
    }
}
