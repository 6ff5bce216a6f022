package dev.difydr.retention;

import dev.difydr.config.Durations;
import dev.difydr.config.RetentionConfig;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.repository.Repository.Entry;
import dev.difydr.repository.VerifyRecord;
import dev.difydr.store.ObjectStore.PendingUpload;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the retention policy to one deployment's repository. Only completed backups count toward any rule.
 * A damaged manifest is never deleted here. A run that never completed (objects without a manifest, or a manifest
 * whose status is not completed) is deleted once its id's time lies more than the grace period back, so a backup
 * that is still being written is never touched; unfinished uploads of the deployment older than the grace period
 * are aborted (one whose store does not say when it began is left alone). Without {@code apply}, nothing is changed.
 */
public final class PruneRun {
    private static final Logger log = LoggerFactory.getLogger(PruneRun.class);
    static final String DAMAGED = "damaged: inspect and delete by hand";

    private final Repository repository;
    private final RetentionConfig config;
    private final RetentionPolicy policy;
    private final Duration grace;
    private final Clock clock;

    /** {@code config} must have passed {@link RetentionPolicy#problems}. */
    public PruneRun(Repository repository, RetentionConfig config, Clock clock) {
        this.repository = repository;
        this.config = config;
        this.policy = RetentionPolicy.of(config);
        this.grace = GracePeriod.parse(config.gracePeriod() == null ? GracePeriod.DEFAULT : config.gracePeriod());
        this.clock = clock;
    }

    public PruneResult run(boolean apply) {
        Instant now = clock.instant();
        List<Entry> entries = repository.list(true);
        List<Entry> completed = entries.stream().filter(Entry::usable).toList();
        Map<String, Entry> byId = new HashMap<>();
        completed.forEach(e -> byId.put(e.id().value(), e));
        Map<String, RetentionPolicy.Decision> decisions = new HashMap<>();
        Map<String, String> groupOf = new HashMap<>();
        Map<String, List<RetentionPolicy.Candidate>> groups = new TreeMap<>();
        for (Entry e : completed) {
            String group = groupOf.computeIfAbsent(e.id().value(), id -> group(e));
            groups.computeIfAbsent(group, g -> new ArrayList<>()).add(new RetentionPolicy.Candidate(e.id().value(), e.startedAt(), false));
        }
        for (List<RetentionPolicy.Candidate> candidates : groups.values()) {
            for (RetentionPolicy.Decision d : policy.apply(candidates, now, cs -> passedVerify(cs.stream().map(c -> byId.get(c.id())).toList()))) {
                decisions.put(d.backup().id(), d);
            }
        }

        List<PruneResult.Backup> backups = new ArrayList<>();
        List<PruneResult.Incomplete> incomplete = new ArrayList<>();
        List<Entry> removeBackups = new ArrayList<>();
        List<Entry> removeRuns = new ArrayList<>();
        for (Entry e : entries) {
            if (e.usable()) {
                RetentionPolicy.Decision d = decisions.get(e.id().value());
                backups.add(new PruneResult.Backup(e.id().value(), e.status(), e.startedAt(),
                        d.keep() ? PruneResult.KEEP : PruneResult.REMOVE, d.reasons(), groups.size() > 1 ? groupOf.get(e.id().value()) : null));
                if (!d.keep()) {
                    removeBackups.add(e);
                }
            } else if (e.damage() != null) {
                log.warn("backup {} is damaged ({}): prune keeps it; inspect it and delete it by hand", e.id(), e.damage());
                backups.add(new PruneResult.Backup(e.id().value(), e.status(), e.startedAt(), PruneResult.KEEP, List.of(DAMAGED), null));
            } else {
                Duration age = Duration.between(e.id().time(), now);
                boolean expired = age.compareTo(grace) > 0;
                String reason = "started " + age(age) + ", " + (expired ? "past" : "within") + " the " + graceText() + " grace period"
                        + (expired ? "" : ": it may still be running");
                incomplete.add(new PruneResult.Incomplete(e.id().value(), e.status(), e.id().time(), e.objects().size(),
                        expired ? PruneResult.REMOVE : PruneResult.KEEP, reason));
                if (expired) {
                    removeRuns.add(e);
                }
            }
        }

        Instant uploadCutoff = now.minus(grace);
        List<PendingUpload> uploads = repository.pendingUploads();
        List<PendingUpload> expiredUploads = uploads.stream().filter(u -> u.started() != null && u.started().isBefore(uploadCutoff)).toList();

        if (apply) {
            repository.remove(removeBackups, removeRuns);
            for (PendingUpload u : expiredUploads) {
                repository.abort(u);
            }
            log.info("pruned deployment '{}': {} backups removed, {} incomplete runs removed, {} unfinished uploads aborted",
                    repository.layout().deployment(), removeBackups.size(), removeRuns.size(), expiredUploads.size());
        }
        int kept = (int) backups.stream().filter(b -> b.decision().equals(PruneResult.KEEP)).count();
        return new PruneResult(repository.layout().deployment(), !apply, effective(), policy.describe(), backups, incomplete,
                kept, removeBackups.size(), expiredUploads.size(), uploads.size() - expiredUploads.size());
    }

    /**
     * The components a backup was taken of, sorted and joined by "+": those it holds and those it recorded as
     * skipped (an optional part that failed, or the configuration without a keyset), so that one failed optional part
     * does not start a group of its own. The policy is applied to each group on its own, as restic applies it per
     * host and paths, so that hourly backups of Redis alone never push the nightly backups of everything out of a
     * daily or weekly bucket.
     */
    static String group(Entry e) {
        Manifest m = e.manifest().orElseThrow();
        Set<String> taken = new TreeSet<>(m.components());
        if (m.skipped() != null) {
            m.skipped().forEach(s -> taken.add(s.component()));
        }
        return String.join("+", taken);
    }

    /** Which of these backups passed their last verify, read from their verify records (at once). */
    private Set<String> passedVerify(List<Entry> entries) {
        Set<String> out = new HashSet<>();
        for (Map.Entry<BackupId, VerifyRecord> r : repository.verifications(entries).entrySet()) {
            if (r.getValue().passed()) {
                out.add(r.getKey().value());
            }
        }
        return out;
    }

    /** The configuration with its defaults filled in, as the result shows it. */
    private RetentionConfig effective() {
        return config.overriddenBy(new RetentionConfig(null, null, null, null, null, null, null, null,
                config.timeZone() == null ? policy.zone().getId() : null, config.gracePeriod() == null ? GracePeriod.DEFAULT : null));
    }

    private String graceText() {
        return config.gracePeriod() == null ? GracePeriod.DEFAULT : config.gracePeriod();
    }

    private static String age(Duration d) {
        return d.isNegative() ? Durations.coarse(d.negated()) + " in the future" : Durations.coarse(d) + " ago";
    }
}
