package dev.difydr.repository;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Durations;
import dev.difydr.store.NoSuchObjectException;
import dev.difydr.store.ObjectStore.ObjectInfo;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lock on one deployment's repository, as restic locks its repositories: a small object under
 * {@code <deployment>/locks/} that says who runs what, refreshed while the run lives and removed when it ends.
 *
 * <p>{@code backup}, {@code verify}, {@code drill} and {@code restore} share the repository; {@code prune} holds it
 * alone; and two backups of one deployment never run at once. A lock is stale when it was not refreshed for
 * {@link #STALE_AFTER}, or when it was taken on this host by a process that is gone; a stale lock is removed with a
 * warning by the next run that finds it (and by {@code unlock}).
 *
 * <p>Object stores have no atomic "create if absent", so taking a lock is a write followed by a look: a run writes its
 * lock, then lists the others. Of two runs, at least one sees the other (each writes before it looks). A run that sees
 * an older conflicting lock withdraws its own; a run that sees only newer ones waits a moment for them to withdraw, and
 * withdraws itself if they do not (they started without seeing it). So two runs never both hold conflicting locks, and
 * of two started at once the older one runs.
 */
public final class RepositoryLock implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RepositoryLock.class);

    /** A lock not refreshed for this long belongs to a run that is gone. */
    public static final Duration STALE_AFTER = Duration.ofMinutes(30);
    static final Duration REFRESH_EVERY = Duration.ofMinutes(5);
    /** How long a run that sees only newer conflicting locks waits for them to withdraw. */
    static final Duration SETTLE = Duration.ofSeconds(3);
    private static final Duration POLL = Duration.ofSeconds(2);

    /** What a run does to the repository, and so which other runs it excludes. */
    public enum Kind {
        BACKUP, VERIFY, DRILL, RESTORE, PRUNE;

        public boolean exclusive() {
            return this == PRUNE;
        }

        boolean conflictsWith(Kind other) {
            return exclusive() || other == null || other.exclusive() || (this == BACKUP && other == BACKUP);
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Kind of(String label) {
            for (Kind k : values()) {
                if (k.label().equals(label)) {
                    return k;
                }
            }
            return null;
        }
    }

    /**
     * What a lock object holds. {@code processStartedAt} tells a live process from a later one that reuses the pid.
     */
    public record Holder(String id, String kind, boolean exclusive, String host, long pid, Instant processStartedAt,
                         String user, String command, Instant startedAt, Instant refreshedAt) {

        Holder refreshed(Instant now) {
            return new Holder(id, kind, exclusive, host, pid, processStartedAt, user, command, startedAt, now);
        }

        @JsonIgnore
        public String describe() {
            return "lock " + id + " (" + kind + (exclusive ? ", exclusive" : "") + ") held by '" + command + "' on host "
                    + host + ", pid " + pid + ", user " + user + ", started " + startedAt + ", refreshed " + refreshedAt;
        }
    }

    /** A lock found in the repository: its holder, or why it cannot be read ({@code unreadable}). */
    public record Found(String id, String key, Holder holder, String unreadable) {
        Kind kind() {
            return holder == null ? null : Kind.of(holder.kind());
        }

        String describe() {
            return holder != null ? holder.describe() : "lock " + id + " (cannot be read: " + unreadable + ")";
        }
    }

    private final Repository repository;
    private final Clock clock;
    private final ScheduledExecutorService refresher;
    private final Thread releaseOnExit;
    private volatile Holder holder;
    private boolean released;

    private RepositoryLock(Repository repository, Clock clock, Holder holder, Duration refreshEvery) {
        this.repository = repository;
        this.clock = clock;
        this.holder = holder;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lock-refresh");
            t.setDaemon(true);
            return t;
        });
        long every = refreshEvery.toMillis();
        refresher.scheduleAtFixedRate(this::refresh, every, every, TimeUnit.MILLISECONDS);
        // A run stopped by a signal (a CronJob's deadline, SIGTERM) removes its lock on the way out.
        this.releaseOnExit = new Thread(this::delete, "lock-release");
        Runtime.getRuntime().addShutdownHook(releaseOnExit);
    }

    public static RepositoryLock acquire(Repository repository, Kind kind, String command, Duration wait) {
        return acquire(repository, kind, command, wait, Clock.systemUTC(), REFRESH_EVERY);
    }

    /**
     * Takes a lock of this kind, waiting up to {@code wait} for conflicting ones to go; a LOCK failure naming the holder
     * when they do not.
     */
    static RepositoryLock acquire(Repository repository, Kind kind, String command, Duration wait, Clock clock, Duration refreshEvery) {
        Instant deadline = clock.instant().plus(wait);
        while (true) {
            Optional<Found> blocker = conflict(repository, kind, null, clock);
            if (blocker.isEmpty()) {
                Holder mine = newHolder(kind, command, clock.instant());
                write(repository, mine);
                blocker = settle(repository, kind, mine, clock);
                if (blocker.isEmpty()) {
                    log.debug("took {}", mine.describe());
                    return new RepositoryLock(repository, clock, mine, refreshEvery);
                }
                repository.store().delete(repository.layout().lock(mine.id()));
            }
            Instant now = clock.instant();
            if (!now.isBefore(deadline)) {
                throw locked(repository, kind, blocker.get(), wait);
            }
            long pause = Math.min(POLL.toMillis() + ThreadLocalRandom.current().nextLong(500), Duration.between(now, deadline).toMillis());
            if (pause > 0) {
                log.info("repository of '{}' is locked by {}; waiting", repository.layout().deployment(), blocker.get().describe());
                sleep(pause);
            }
        }
    }

    /** After writing our lock: a conflicting lock that wins over ours, or empty when ours holds. */
    private static Optional<Found> settle(Repository repository, Kind kind, Holder mine, Clock clock) {
        Instant until = clock.instant().plus(SETTLE);
        while (true) {
            List<Found> conflicting = conflicts(repository, kind, mine.id(), clock);
            if (conflicting.isEmpty()) {
                return Optional.empty();
            }
            Optional<Found> older = conflicting.stream().filter(f -> f.id().compareTo(mine.id()) < 0).findFirst();
            if (older.isPresent()) {
                return older;
            }
            if (clock.instant().isAfter(until)) {
                return Optional.of(conflicting.get(0));
            }
            sleep(100);
        }
    }

    private static Optional<Found> conflict(Repository repository, Kind kind, String except, Clock clock) {
        return conflicts(repository, kind, except, clock).stream().findFirst();
    }

    /** Live locks that conflict with a lock of this kind, oldest first; stale ones are removed on the way. */
    private static List<Found> conflicts(Repository repository, Kind kind, String except, Clock clock) {
        List<Found> out = new ArrayList<>();
        String host = hostName();
        for (Found f : list(repository)) {
            if (f.id().equals(except)) {
                continue;
            }
            String stale = f.holder() == null ? null : staleReason(f.holder(), clock.instant(), host);
            if (stale != null) {
                log.warn("removing the stale {}: {}", f.describe(), stale);
                repository.store().delete(f.key());
            } else if (kind.conflictsWith(f.kind())) {
                out.add(f);
            }
        }
        return out;
    }

    /** Every lock in the repository, oldest first. */
    public static List<Found> list(Repository repository) {
        List<Found> out = new ArrayList<>();
        RepositoryLayout layout = repository.layout();
        for (ObjectInfo o : repository.store().list(layout.locksPrefix())) {
            Optional<String> id = layout.lockOf(o.key());
            if (id.isEmpty()) {
                continue;
            }
            try {
                Holder h = Json.MAPPER.readValue(repository.store().read(o.key()), Holder.class);
                out.add(h == null || h.kind() == null || h.refreshedAt() == null
                        ? new Found(id.get(), o.key(), null, "it lacks kind or refreshedAt")
                        : new Found(id.get(), o.key(), h, null));
            } catch (NoSuchObjectException e) {
                // released between the listing and the read
            } catch (IOException e) {
                out.add(new Found(id.get(), o.key(), null, e.getMessage().lines().findFirst().orElse("")));
            }
        }
        return out;
    }

    /**
     * Why a lock is stale, or null when its run may be alive: not refreshed for {@link #STALE_AFTER}, or taken on this
     * host by a process that no longer runs (or whose pid now belongs to a later process).
     */
    static String staleReason(Holder h, Instant now, String host) {
        if (h.refreshedAt().isBefore(now.minus(STALE_AFTER))) {
            return "not refreshed since " + h.refreshedAt() + ", more than " + Durations.format(STALE_AFTER) + " ago";
        }
        if (host.equals(h.host())) {
            Optional<ProcessHandle> process = ProcessHandle.of(h.pid()).filter(ProcessHandle::isAlive);
            if (process.isEmpty()) {
                return "its process " + h.pid() + " on this host is gone";
            }
            Optional<Instant> started = process.get().info().startInstant();
            if (h.processStartedAt() != null && started.isPresent()
                    && Duration.between(h.processStartedAt(), started.get()).abs().compareTo(Duration.ofSeconds(2)) > 0) {
                return "its process " + h.pid() + " on this host is gone (the pid now belongs to a process started " + started.get() + ")";
            }
        }
        return null;
    }

    /** What {@code unlock} did: the locks it removed (with why) and those it left. */
    public record Unlocked(List<String> removed, List<String> kept) {
    }

    /** Removes stale locks, or with {@code all} every lock. */
    public static Unlocked unlock(Repository repository, boolean all) {
        List<String> removed = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        Instant now = Instant.now();
        String host = hostName();
        for (Found f : list(repository)) {
            String stale = f.holder() == null ? null : staleReason(f.holder(), now, host);
            if (all || stale != null) {
                repository.store().delete(f.key());
                removed.add(f.describe() + (stale == null ? "" : ": " + stale));
            } else {
                kept.add(f.describe() + (f.holder() == null ? "; remove it with 'unlock --all' when no run is active" : ": its run may be alive"));
            }
        }
        return new Unlocked(removed, kept);
    }

    private static DrException locked(Repository repository, Kind kind, Found holder, Duration wait) {
        String waited = wait.isZero() ? "" : " after waiting " + Durations.format(wait);
        String advice = holder.holder() == null
                ? "if no dify-dr run is active, remove it with 'dify-dr unlock --all'"
                : "wait for it (--lock-wait DURATION), or, if that run is dead on another host, 'dify-dr unlock' removes it once it is "
                + Durations.format(STALE_AFTER) + " stale ('unlock --all' removes every lock)";
        return new DrException(Failure.LOCK, "cannot " + kind.label() + ": the repository of deployment '" + repository.layout().deployment()
                + "' in " + repository.store().describe() + " is locked" + waited + " by " + holder.describe() + "; " + advice);
    }

    private static Holder newHolder(Kind kind, String command, Instant now) {
        ProcessHandle self = ProcessHandle.current();
        return new Holder(BackupId.at(now).value(), kind.label(), kind.exclusive(), hostName(), self.pid(),
                self.info().startInstant().orElse(null), System.getProperty("user.name", "unknown"), command, now, now);
    }

    private static void write(Repository repository, Holder h) {
        try {
            repository.store().put(repository.layout().lock(h.id()), Json.MAPPER.writeValueAsBytes(h));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new DrException(Failure.INTERNAL, "cannot serialise lock " + h.id(), e);
        }
    }

    static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DrException(Failure.LOCK, "interrupted while waiting for the repository lock");
        }
    }

    public Holder holder() {
        return holder;
    }

    private synchronized void refresh() {
        if (released) {
            return;
        }
        String key = repository.layout().lock(holder.id());
        try {
            if (repository.store().size(key).isEmpty()) {
                log.error("{} was removed by someone else ('unlock --all'?): this run no longer keeps prune away", holder.describe());
                return;
            }
            Holder next = holder.refreshed(clock.instant());
            write(repository, next);
            holder = next;
        } catch (RuntimeException e) {
            log.warn("cannot refresh {}: {}; it turns stale {} after its last refresh", holder.describe(), e.getMessage(),
                    Durations.format(STALE_AFTER));
        }
    }

    private synchronized void delete() {
        if (released) {
            return;
        }
        released = true;
        refresher.shutdownNow();
        try {
            repository.store().delete(repository.layout().lock(holder.id()));
        } catch (RuntimeException e) {
            log.warn("cannot remove {}: {}; the next run removes it once stale", holder.describe(), e.getMessage());
        }
    }

    /** Releases the lock. */
    @Override
    public void close() {
        delete();
        try {
            Runtime.getRuntime().removeShutdownHook(releaseOnExit);
        } catch (IllegalStateException e) {
            // already shutting down: the hook runs and finds the lock released
        }
    }
}
