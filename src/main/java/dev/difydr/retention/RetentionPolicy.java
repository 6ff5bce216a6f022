package dev.difydr.retention;

import dev.difydr.config.RetentionConfig;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * Which completed backups to keep, with the meanings of restic's {@code forget} (internal/restic/snapshot_policy.go).
 * Backups are taken newest first. {@code keepLast n} keeps the n newest. Each bucket rule (hourly, daily, weekly by ISO
 * year-week, monthly, yearly) walks every backup newest first and keeps one whenever its bucket differs from the
 * bucket of the last backup that rule kept, until the rule's count is used up ({@code -1}: never); while a rule has
 * count left it also keeps the oldest backup, as restic does. {@code keepWithin} keeps every backup strictly after
 * the newest backup's time (the newest that is not in the future) minus the duration. Buckets are read in
 * {@code zone}'s calendar: a backup at 02:30 in the repeated hour of a DST change falls in the same hourly bucket as
 * the one an hour earlier. A count of 0 or null is no rule; with no rule at all everything is kept.
 *
 * <p>{@code minKeep}, not restic's: after the rules, while fewer than that many kept backups passed verify, the newest
 * verified backups not yet kept are kept too. {@code verified} of a candidate is only read for {@code minKeep}.
 */
public record RetentionPolicy(Integer keepLast, Integer keepHourly, Integer keepDaily, Integer keepWeekly, Integer keepMonthly,
                              Integer keepYearly, KeepWithin keepWithin, Integer minKeep, ZoneId zone) {

    public static final String LAST = "last";
    public static final String MIN_KEEP = "minKeep";
    private static final int MIN_KEEP_BATCH = 16;
    public static final String NO_RULE = "no retention rule: everything is kept";

    /** The policy of a configuration that passed {@link #problems}. */
    public static RetentionPolicy of(RetentionConfig c) {
        return new RetentionPolicy(c.keepLast(), c.keepHourly(), c.keepDaily(), c.keepWeekly(), c.keepMonthly(), c.keepYearly(),
                c.keepWithin() == null ? null : KeepWithin.parse(c.keepWithin()), c.minKeep(),
                c.timeZone() == null ? ZoneId.of("UTC") : ZoneId.of(c.timeZone()));
    }

    /** What is wrong with a retention section, each problem with its key path under {@code key}. */
    public static List<String> problems(String key, RetentionConfig c) {
        List<String> out = new ArrayList<>();
        String[] names = {"keepLast", "keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly"};
        Integer[] counts = {c.keepLast(), c.keepHourly(), c.keepDaily(), c.keepWeekly(), c.keepMonthly(), c.keepYearly()};
        for (int i = 0; i < names.length; i++) {
            if (counts[i] != null && counts[i] < -1) {
                out.add(key + "." + names[i] + ": " + counts[i] + " must be a count, 0 (no rule) or -1 (unlimited)");
            }
        }
        if (c.minKeep() != null && c.minKeep() < 0) {
            out.add(key + ".minKeep: " + c.minKeep() + " must be 0 or more");
        }
        if (c.keepWithin() != null) {
            try {
                KeepWithin.parse(c.keepWithin());
            } catch (IllegalArgumentException e) {
                out.add(key + ".keepWithin: " + e.getMessage());
            }
        }
        if (c.gracePeriod() != null) {
            try {
                GracePeriod.parse(c.gracePeriod());
            } catch (IllegalArgumentException e) {
                out.add(key + ".gracePeriod: " + e.getMessage());
            }
        }
        if (c.timeZone() != null) {
            try {
                ZoneId.of(c.timeZone());
            } catch (DateTimeException e) {
                out.add(key + ".timeZone: '" + c.timeZone() + "' is not a time zone (use an IANA name such as Asia/Shanghai or UTC)");
            }
        }
        return out;
    }

    /** No rule that selects backups: everything is kept. */
    public boolean empty() {
        return active(keepLast) == 0 && active(keepHourly) == 0 && active(keepDaily) == 0 && active(keepWeekly) == 0
                && active(keepMonthly) == 0 && active(keepYearly) == 0 && (keepWithin == null || keepWithin.zero());
    }

    /** In words, like restic's: {@code keep 3 last, 7 daily, all weekly, all within 1y of the newest; ...}. */
    public String describe() {
        if (empty()) {
            return NO_RULE;
        }
        List<String> rules = new ArrayList<>();
        String[] names = {"last", "hourly", "daily", "weekly", "monthly", "yearly"};
        Integer[] counts = {keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly};
        for (int i = 0; i < names.length; i++) {
            if (active(counts[i]) != 0) {
                rules.add((counts[i] == -1 ? "all" : counts[i].toString()) + " " + names[i]);
            }
        }
        if (keepWithin != null && !keepWithin.zero()) {
            rules.add("all within " + keepWithin + " of the newest");
        }
        return "keep " + String.join(", ", rules) + (active(minKeep) > 0 ? "; at least " + minKeep + " that passed verify" : "")
                + "; buckets in " + zone.getId();
    }

    private static int active(Integer count) {
        return count == null ? 0 : count;
    }

    /** A completed backup as the policy sees it. */
    public record Candidate(String id, Instant time, boolean verified) {
    }

    /** A candidate, whether it is kept, and every rule that keeps it. */
    public record Decision(Candidate backup, boolean keep, List<String> reasons) {
    }

    private final class Bucket {
        final String reason;
        final ToIntFunction<ZonedDateTime> value;
        int count;
        Integer last;

        Bucket(String reason, Integer count, ToIntFunction<ZonedDateTime> value) {
            this.reason = reason;
            this.count = active(count);
            this.value = value;
        }
    }

    /** Decides with each candidate's own {@code verified}. */
    public List<Decision> apply(List<Candidate> backups, Instant now) {
        return apply(backups, now, cs -> cs.stream().filter(Candidate::verified).map(Candidate::id).collect(Collectors.toSet()));
    }

    /**
     * Decides for each backup, returned newest first. {@code now} only excludes backups dated in the future from being
     * the newest that {@code keepWithin} counts from. {@code passedVerify} answers which of some candidates passed their
     * last verify; it is asked only for {@code minKeep}, about the kept ones and then about the others in small
     * batches newest first until {@code minKeep} is met, so that most verify records are never read.
     */
    public List<Decision> apply(List<Candidate> backups, Instant now, Function<List<Candidate>, Set<String>> passedVerify) {
        List<Candidate> list = new ArrayList<>(backups);
        list.sort(Comparator.comparing(Candidate::time).thenComparing(Candidate::id).reversed());
        List<List<String>> reasons = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            reasons.add(new ArrayList<>());
        }
        if (empty()) {
            reasons.forEach(r -> r.add(NO_RULE));
            return decisions(list, reasons);
        }
        int[] position = {0};
        List<Bucket> buckets = List.of(
                new Bucket(LAST, keepLast, t -> position[0]),
                new Bucket("hourly", keepHourly, t -> t.getYear() * 1_000_000 + t.getMonthValue() * 10_000 + t.getDayOfMonth() * 100 + t.getHour()),
                new Bucket("daily", keepDaily, t -> t.getYear() * 10_000 + t.getMonthValue() * 100 + t.getDayOfMonth()),
                new Bucket("weekly", keepWeekly, t -> t.get(IsoFields.WEEK_BASED_YEAR) * 100 + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR)),
                new Bucket("monthly", keepMonthly, t -> t.getYear() * 100 + t.getMonthValue()),
                new Bucket("yearly", keepYearly, t -> t.getYear()));
        Instant cutoff = keepWithin == null || keepWithin.zero() || list.isEmpty() ? null : keepWithin.before(newest(list, now), zone);
        for (int nr = 0; nr < list.size(); nr++) {
            position[0] = nr;
            Candidate c = list.get(nr);
            ZonedDateTime local = c.time().atZone(zone);
            if (cutoff != null && c.time().isAfter(cutoff)) {
                reasons.get(nr).add("within " + keepWithin);
            }
            for (Bucket b : buckets) {
                if (b.count > 0 || b.count == -1) {
                    int value = b.value.applyAsInt(local);
                    if (b.last == null || value != b.last || nr == list.size() - 1) {
                        b.last = value;
                        if (b.count > 0) {
                            b.count--;
                        }
                        reasons.get(nr).add(b.reason);
                    }
                }
            }
        }
        int need = active(minKeep);
        if (need > 0) {
            List<Candidate> kept = new ArrayList<>();
            List<Integer> rest = new ArrayList<>();
            for (int nr = 0; nr < list.size(); nr++) {
                if (reasons.get(nr).isEmpty()) {
                    rest.add(nr);
                } else {
                    kept.add(list.get(nr));
                }
            }
            int verifiedKept = passedVerify.apply(kept).size();
            // Ask in small batches, newest first: usually the first one or two already satisfy minKeep.
            for (int from = 0; from < rest.size() && verifiedKept < need; from += MIN_KEEP_BATCH) {
                List<Integer> batch = rest.subList(from, Math.min(rest.size(), from + MIN_KEEP_BATCH));
                Set<String> passed = passedVerify.apply(batch.stream().map(list::get).toList());
                for (int nr : batch) {
                    if (verifiedKept < need && passed.contains(list.get(nr).id())) {
                        reasons.get(nr).add(MIN_KEEP);
                        verifiedKept++;
                    }
                }
            }
        }
        return decisions(list, reasons);
    }

    /** restic's newest: the latest backup time that is not after now (all in the future: the latest of all). */
    private static Instant newest(List<Candidate> list, Instant now) {
        return list.stream().map(Candidate::time).filter(t -> !t.isAfter(now)).max(Comparator.naturalOrder())
                .orElse(list.get(0).time());
    }

    private static List<Decision> decisions(List<Candidate> list, List<List<String>> reasons) {
        List<Decision> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            out.add(new Decision(list.get(i), !reasons.get(i).isEmpty(), List.copyOf(reasons.get(i))));
        }
        return out;
    }
}
