package dev.difydr.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.config.RetentionConfig;
import dev.difydr.retention.RetentionPolicy.Candidate;
import dev.difydr.retention.RetentionPolicy.Decision;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class RetentionPolicyTest {
    private static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");

    /** Daily backups at noon UTC, the newest on 2026-05-31; {@code verified} says which (by index, 0 = newest) passed verify. */
    private static List<Candidate> daily(int n, int... verified) {
        List<Candidate> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int index = i;
            out.add(new Candidate("d" + i, Instant.parse("2026-05-31T12:00:00Z").minus(Duration.ofDays(i)),
                    java.util.Arrays.stream(verified).anyMatch(v -> v == index)));
        }
        return out;
    }

    private static RetentionPolicy policy(Integer last, Integer daily, String within, Integer minKeep) {
        return new RetentionPolicy(last, null, daily, null, null, null, within == null ? null : KeepWithin.parse(within), minKeep, ZoneOffset.UTC);
    }

    private static Map<String, List<String>> kept(List<Decision> decisions) {
        return decisions.stream().filter(Decision::keep).collect(Collectors.toMap(d -> d.backup().id(), Decision::reasons,
                (a, b) -> a, java.util.LinkedHashMap::new));
    }

    @Test
    void withoutAnyRuleEverythingIsKept() {
        RetentionPolicy none = RetentionPolicy.of(RetentionConfig.NONE);
        assertThat(none.empty()).isTrue();
        assertThat(none.apply(daily(5), NOW)).allSatisfy(d -> assertThat(d.reasons()).containsExactly(RetentionPolicy.NO_RULE));
        // counts of 0 are no rule either, and minKeep alone selects nothing
        RetentionPolicy zeros = policy(0, 0, null, 3);
        assertThat(zeros.empty()).isTrue();
        assertThat(zeros.apply(daily(5), NOW)).allMatch(Decision::keep);
    }

    @Test
    void keepLastKeepsTheNewestAndMinusOneKeepsAll() {
        assertThat(kept(policy(2, null, null, null).apply(daily(5), NOW))).containsOnlyKeys("d0", "d1");
        assertThat(kept(policy(-1, null, null, null).apply(daily(5), NOW))).containsOnlyKeys("d0", "d1", "d2", "d3", "d4")
                .allSatisfy((id, reasons) -> assertThat(reasons).containsExactly("last"));
    }

    @Test
    void aBucketRuleWithCountLeftAlsoKeepsTheOldest() {
        // two per day: daily 10 keeps the newer of each day, and, with count left, the oldest backup (restic 0.17+)
        List<Candidate> twice = new ArrayList<>();
        for (Candidate c : daily(3)) {
            twice.add(c);
            twice.add(new Candidate(c.id() + "-early", c.time().minus(Duration.ofHours(6)), false));
        }
        assertThat(kept(policy(null, 10, null, null).apply(twice, NOW))).containsOnlyKeys("d0", "d1", "d2", "d2-early");
        assertThat(kept(policy(null, 3, null, null).apply(twice, NOW))).containsOnlyKeys("d0", "d1", "d2");
        assertThat(kept(policy(null, -1, null, null).apply(twice, NOW))).containsOnlyKeys("d0", "d1", "d2", "d2-early");
    }

    @Test
    void keepWithinCountsFromTheNewestBackupNotFromNow() {
        // the newest backup is a year old: within 2d still keeps d0 and d1; d2 lies exactly on the cutoff, which is not after it
        List<Candidate> old = daily(6).stream().map(c -> new Candidate(c.id(), c.time().minus(Duration.ofDays(365)), false)).toList();
        assertThat(kept(policy(null, null, "2d", null).apply(old, NOW))).containsOnlyKeys("d0", "d1")
                .allSatisfy((id, reasons) -> assertThat(reasons).containsExactly("within 2d"));
        assertThat(kept(policy(null, null, "2d1h", null).apply(old, NOW))).containsOnlyKeys("d0", "d1", "d2");
        // a backup dated in the future is not the newest that within counts from
        List<Candidate> withFuture = new ArrayList<>(daily(4));
        withFuture.add(new Candidate("future", NOW.plus(Duration.ofDays(30)), false));
        assertThat(kept(policy(null, null, "1d1h", null).apply(withFuture, NOW))).containsOnlyKeys("future", "d0", "d1");
    }

    @Test
    void keepWithinIsCalendarArithmeticLikeGo() {
        ZoneId utc = ZoneOffset.UTC;
        // Go's AddDate(0, -1, 0) on 31 March gives 31 February, normalised to 3 March
        assertThat(KeepWithin.parse("1m").before(Instant.parse("2026-03-31T10:00:00Z"), utc)).isEqualTo(Instant.parse("2026-03-03T10:00:00Z"));
        assertThat(KeepWithin.parse("1y2m3d4h").before(Instant.parse("2026-06-10T10:00:00Z"), utc)).isEqualTo(Instant.parse("2025-04-07T06:00:00Z"));
        // a day back across the autumn change in Berlin is 25 hours
        assertThat(KeepWithin.parse("1d").before(Instant.parse("2026-10-25T11:00:00Z"), ZoneId.of("Europe/Berlin")))
                .isEqualTo(Instant.parse("2026-10-24T10:00:00Z"));
        assertThat(KeepWithin.parse("3d2h").toString()).isEqualTo("3d2h");
        assertThat(KeepWithin.parse("2h1d").toString()).isEqualTo("1d2h");
        assertThatThrownBy(() -> KeepWithin.parse("7 days")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1y2m3d4h");
        assertThatThrownBy(() -> KeepWithin.parse("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void minKeepAddsTheNewestVerifiedBackupsTheRulesLeft() {
        // keepLast 2 keeps d0, d1, neither verified; minKeep 2 adds the newest verified: d3 and d5 (not d6)
        Map<String, List<String>> kept = kept(policy(2, null, null, 2).apply(daily(7, 3, 5, 6), NOW));
        assertThat(kept).containsOnlyKeys("d0", "d1", "d3", "d5");
        assertThat(kept.get("d3")).containsExactly("minKeep");
        assertThat(kept.get("d0")).containsExactly("last");
    }

    @Test
    void minKeepCountsVerifiedBackupsTheRulesAlreadyKeep() {
        // d1 is verified and kept by keepLast: one more is needed, the newest verified one left (d4)
        assertThat(kept(policy(2, null, null, 2).apply(daily(6, 1, 4, 5), NOW))).containsOnlyKeys("d0", "d1", "d4");
        // enough verified among the kept ones: nothing added
        assertThat(kept(policy(3, null, null, 2).apply(daily(6, 0, 2, 5), NOW))).containsOnlyKeys("d0", "d1", "d2");
    }

    @Test
    void minKeepWithTooFewVerifiedKeepsEveryVerifiedOne() {
        assertThat(kept(policy(1, null, null, 5).apply(daily(6, 2, 4), NOW))).containsOnlyKeys("d0", "d2", "d4");
        assertThat(kept(policy(1, null, null, 5).apply(daily(6), NOW))).containsOnlyKeys("d0");
    }

    @Test
    void verifyRecordsAreAskedForOnlyAsFarAsMinKeepNeeds() {
        List<Candidate> asked = new ArrayList<>();
        Function<List<Candidate>, Set<String>> lookup = cs -> {
            asked.addAll(cs);
            return cs.stream().filter(Candidate::verified).map(Candidate::id).collect(Collectors.toSet());
        };
        List<Candidate> hundred = daily(100, 5, 60);

        assertThat(kept(policy(2, null, null, 1).apply(hundred, NOW, lookup))).containsOnlyKeys("d0", "d1", "d5");
        assertThat(asked).extracting(Candidate::id).startsWith("d0", "d1", "d2").hasSizeLessThan(20).doesNotContain("d60");

        asked.clear();
        policy(2, null, null, null).apply(hundred, NOW, lookup);
        assertThat(asked).isEmpty();
    }

    @Test
    void aBackupKeptByManyRulesCarriesEveryReason() {
        RetentionPolicy p = new RetentionPolicy(1, 1, 1, 1, 1, 1, KeepWithin.parse("1d"), null, ZoneOffset.UTC);
        assertThat(p.apply(daily(3), NOW).get(0).reasons()).containsExactly("within 1d", "last", "hourly", "daily", "weekly", "monthly", "yearly");
    }

    @Test
    void configurationProblemsNameTheirKeys() {
        RetentionConfig bad = new RetentionConfig(-2, null, null, null, null, null, "a week", -1, "Mars/Olympus", "soon");
        assertThat(RetentionPolicy.problems("retention", bad)).containsExactly(
                "retention.keepLast: -2 must be a count, 0 (no rule) or -1 (unlimited)",
                "retention.minKeep: -1 must be 0 or more",
                "retention.keepWithin: 'a week' is not a duration like 1y2m3d4h (y years, m months, d days, h hours)",
                "retention.gracePeriod: 'soon' is not a duration like 24h, 90m or 7d (d days, h hours, m minutes, s seconds)",
                "retention.timeZone: 'Mars/Olympus' is not a time zone (use an IANA name such as Asia/Shanghai or UTC)");
        assertThat(RetentionPolicy.problems("retention", new RetentionConfig(3, -1, 7, 4, 12, -1, "1y", 2, "Asia/Shanghai", "90m"))).isEmpty();
    }

    @Test
    void gracePeriods() {
        assertThat(GracePeriod.parse("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(GracePeriod.parse("90m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(GracePeriod.parse("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(GracePeriod.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThatThrownBy(() -> GracePeriod.parse("1y")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void overridesReplaceKeyByKey() {
        RetentionConfig configured = new RetentionConfig(3, null, 7, 4, null, null, null, 2, "Asia/Shanghai", "12h");
        RetentionConfig flags = new RetentionConfig(1, null, null, null, null, null, "2d", null, null, null);
        assertThat(configured.overriddenBy(flags)).isEqualTo(new RetentionConfig(1, null, 7, 4, null, null, "2d", 2, "Asia/Shanghai", "12h"));
    }

    @Test
    void orderDoesNotDependOnTheInput() {
        List<Candidate> shuffled = new ArrayList<>(daily(5));
        java.util.Collections.reverse(shuffled);
        assertThat(policy(2, null, null, null).apply(shuffled, NOW)).extracting(d -> d.backup().id())
                .containsExactly("d0", "d1", "d2", "d3", "d4");
    }
}
