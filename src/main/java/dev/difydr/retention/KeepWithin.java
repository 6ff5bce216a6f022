package dev.difydr.retention;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * restic's retention duration: years, months, days and hours, written like {@code 1y2m3d4h} (any of the parts, in any
 * order; {@code m} is months). It is calendar arithmetic, not a fixed length: a month back from 31 March is 3 March,
 * as Go's {@code AddDate} normalises 31 February, and a day back across a daylight-saving change is 23 or 25 hours.
 */
public record KeepWithin(int years, int months, int days, int hours) {
    private static final Pattern WHOLE = Pattern.compile("(\\d{1,6}[ymdh])+");
    private static final Pattern PART = Pattern.compile("(\\d{1,6})([ymdh])");

    /** Parses {@code 1y2m3d4h}; throws IllegalArgumentException saying what is expected. */
    public static KeepWithin parse(String text) {
        if (text == null || !WHOLE.matcher(text.strip()).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration like 1y2m3d4h (y years, m months, d days, h hours)");
        }
        int y = 0, m = 0, d = 0, h = 0;
        Matcher part = PART.matcher(text.strip());
        while (part.find()) {
            int n = Integer.parseInt(part.group(1));
            switch (part.group(2)) {
                case "y" -> y += n;
                case "m" -> m += n;
                case "d" -> d += n;
                default -> h += n;
            }
        }
        return new KeepWithin(y, m, d, h);
    }

    public boolean zero() {
        return years == 0 && months == 0 && days == 0 && hours == 0;
    }

    /** {@code newest} minus this duration, counted in {@code zone}'s calendar. */
    public Instant before(Instant newest, ZoneId zone) {
        ZonedDateTime t = newest.atZone(zone);
        // Go's AddDate: subtract from the fields, then normalise overflowing days and months forward.
        LocalDate date = LocalDate.of(t.getYear() - years, 1, 1)
                .plusMonths(t.getMonthValue() - 1L - months)
                .plusDays(t.getDayOfMonth() - 1L - days);
        return ZonedDateTime.ofLocal(date.atTime(t.toLocalTime()), zone, t.getOffset()).toInstant().minusSeconds(3600L * hours);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (years != 0) sb.append(years).append('y');
        if (months != 0) sb.append(months).append('m');
        if (days != 0) sb.append(days).append('d');
        if (hours != 0) sb.append(hours).append('h');
        return sb.length() == 0 ? "0h" : sb.toString();
    }
}
