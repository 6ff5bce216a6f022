package dev.difydr.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.repository.RepositoryLock.Holder;
import dev.difydr.repository.RepositoryLock.Kind;
import dev.difydr.store.file.FileObjectStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepositoryLockTest {
    @TempDir
    Path dir;
    Repository repository;

    @BeforeEach
    void open() {
        repository = new Repository(new FileObjectStore(dir), "dify");
    }

    @AfterEach
    void close() {
        repository.close();
    }

    private RepositoryLock take(Kind kind) {
        return RepositoryLock.acquire(repository, kind, "dify-dr " + kind.label(), Duration.ZERO);
    }

    @Test
    void sharedKindsRunTogetherAndAreReleased() {
        try (RepositoryLock backup = take(Kind.BACKUP); RepositoryLock verify = take(Kind.VERIFY);
             RepositoryLock drill = take(Kind.DRILL); RepositoryLock restore = take(Kind.RESTORE)) {
            assertThat(RepositoryLock.list(repository)).hasSize(4);
            Holder h = backup.holder();
            assertThat(h.host()).isEqualTo(RepositoryLock.hostName());
            assertThat(h.pid()).isEqualTo(ProcessHandle.current().pid());
            assertThat(h.command()).isEqualTo("dify-dr backup");
            assertThat(h.user()).isEqualTo(System.getProperty("user.name"));
            assertThat(h.exclusive()).isFalse();
        }
        assertThat(RepositoryLock.list(repository)).isEmpty();
    }

    @Test
    void aSecondBackupIsRefusedNamingTheHolder() {
        try (RepositoryLock first = take(Kind.BACKUP)) {
            assertThatThrownBy(() -> take(Kind.BACKUP))
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(e.failure()).isEqualTo(Failure.LOCK))
                    .hasMessageContaining("cannot backup").hasMessageContaining(first.holder().id())
                    .hasMessageContaining("'dify-dr backup'").hasMessageContaining("pid " + ProcessHandle.current().pid())
                    .hasMessageContaining("--lock-wait");
            // the refused run left no lock behind
            assertThat(RepositoryLock.list(repository)).hasSize(1);
        }
    }

    @Test
    void pruneExcludesEveryOtherRunBothWays() {
        try (RepositoryLock verify = take(Kind.VERIFY)) {
            assertThatThrownBy(() -> take(Kind.PRUNE)).hasMessageContaining("cannot prune").hasMessageContaining("(verify)");
        }
        try (RepositoryLock prune = take(Kind.PRUNE)) {
            assertThat(prune.holder().exclusive()).isTrue();
            for (Kind k : List.of(Kind.BACKUP, Kind.VERIFY, Kind.DRILL, Kind.RESTORE, Kind.PRUNE)) {
                assertThatThrownBy(() -> take(k)).hasMessageContaining("(prune, exclusive)");
            }
        }
        assertThat(RepositoryLock.list(repository)).isEmpty();
    }

    @Test
    void waitsForTheHolderUpToLockWait() throws Exception {
        RepositoryLock first = take(Kind.BACKUP);
        Thread releaser = new Thread(() -> {
            try {
                Thread.sleep(1500);
            } catch (InterruptedException e) {
                return;
            }
            first.close();
        });
        releaser.start();
        Instant start = Instant.now();
        try (RepositoryLock second = RepositoryLock.acquire(repository, Kind.BACKUP, "second", Duration.ofSeconds(20))) {
            assertThat(Duration.between(start, Instant.now())).isGreaterThanOrEqualTo(Duration.ofMillis(1400));
            assertThat(second.holder().command()).isEqualTo("second");
        }
        releaser.join();
    }

    @Test
    void aWaitThatEndsFirstSaysHowLongItWaited() {
        try (RepositoryLock first = take(Kind.PRUNE)) {
            Instant start = Instant.now();
            assertThatThrownBy(() -> RepositoryLock.acquire(repository, Kind.BACKUP, "b", Duration.ofSeconds(1)))
                    .hasMessageContaining("after waiting 1s");
            assertThat(Duration.between(start, Instant.now())).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        }
    }

    @Test
    void aLockOfAProcessGoneFromThisHostIsRemovedWithAWarning() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Instant now = Instant.now();
        plant(new Holder("20261122T060000Z-aaaaaa", "backup", false, RepositoryLock.hostName(), gone.pid(), now, "u", "dify-dr backup", now, now));
        try (RepositoryLock lock = take(Kind.BACKUP)) {
            assertThat(RepositoryLock.list(repository)).extracting(RepositoryLock.Found::id).containsExactly(lock.holder().id());
        }
    }

    @Test
    void aLockOfALivePidThatBelongsToALaterProcessIsStale() {
        Instant now = Instant.now();
        Holder reused = new Holder("x", "backup", false, "h", ProcessHandle.current().pid(), now.minus(Duration.ofDays(3)), "u", "c", now, now);
        assertThat(RepositoryLock.staleReason(reused, now, "h")).contains("now belongs to a process started");
        Holder alive = new Holder("x", "backup", false, "h", ProcessHandle.current().pid(),
                ProcessHandle.current().info().startInstant().orElseThrow(), "u", "c", now, now);
        assertThat(RepositoryLock.staleReason(alive, now, "h")).isNull();
    }

    @Test
    void aLockFromAnotherHostIsStaleOnlyWhenNotRefreshedForThirtyMinutes() {
        Instant now = Instant.now();
        Holder recent = new Holder("x", "backup", false, "elsewhere", 1, null, "u", "c", now.minus(Duration.ofHours(5)), now.minus(Duration.ofMinutes(29)));
        Holder old = new Holder("x", "backup", false, "elsewhere", 1, null, "u", "c", now.minus(Duration.ofHours(5)), now.minus(Duration.ofMinutes(31)));
        assertThat(RepositoryLock.staleReason(recent, now, "here")).isNull();
        assertThat(RepositoryLock.staleReason(old, now, "here")).contains("not refreshed since").contains("30m");
    }

    @Test
    void aLiveLockIsRefreshedSoItNeverTurnsStale() throws Exception {
        Clock later = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(40));
        try (RepositoryLock lock = RepositoryLock.acquire(repository, Kind.BACKUP, "c", Duration.ZERO, later, Duration.ofMillis(200))) {
            Instant first = lock.holder().refreshedAt();
            Thread.sleep(700);
            Holder stored = RepositoryLock.list(repository).get(0).holder();
            assertThat(stored.refreshedAt()).isAfter(first);
            assertThat(stored.startedAt()).isEqualTo(first);
            // seen from another host just under 30 minutes after the last refresh: alive; without its refreshes, stale
            Instant seen = stored.refreshedAt().plus(RepositoryLock.STALE_AFTER).minusMillis(1);
            assertThat(RepositoryLock.staleReason(stored, seen, "elsewhere")).isNull();
            assertThat(RepositoryLock.staleReason(stored.refreshed(first), seen, "elsewhere")).isNotNull();
        }
    }

    @Test
    void unlockRemovesStaleLocksAndAllRemovesEveryLock() throws Exception {
        Instant now = Instant.now();
        try (RepositoryLock live = take(Kind.VERIFY)) {
            plant(new Holder("20261122T060000Z-aaaaaa", "backup", false, "elsewhere", 7, null, "u", "c", now.minus(Duration.ofHours(2)), now.minus(Duration.ofHours(1))));
            repository.store().put(repository.layout().lock("20261122T060001Z-bbbbbb"), "not json".getBytes());
            RepositoryLock.Unlocked stale = RepositoryLock.unlock(repository, false);
            assertThat(stale.removed()).singleElement().asString().contains("20261122T060000Z-aaaaaa").contains("not refreshed");
            assertThat(stale.kept()).hasSize(2).anySatisfy(k -> assertThat(k).contains("cannot be read").contains("unlock --all"));
            RepositoryLock.Unlocked all = RepositoryLock.unlock(repository, true);
            assertThat(all.removed()).hasSize(2);
            assertThat(RepositoryLock.list(repository)).isEmpty();
        }
    }

    @Test
    void anUnreadableLockBlocksUntilRemovedByHand() {
        repository.store().put(repository.layout().lock("20261122T060001Z-bbbbbb"), "{".getBytes());
        assertThatThrownBy(() -> take(Kind.VERIFY)).hasMessageContaining("cannot be read").hasMessageContaining("unlock --all");
    }

    /** Runs started at the same instant: never two backups at once, and one of them runs. */
    @Test
    void ofBackupsStartedAtOnceExactlyOneRuns() throws Exception {
        int runs = 4;
        ExecutorService pool = Executors.newFixedThreadPool(runs);
        try {
            for (int round = 0; round < 3; round++) {
                CyclicBarrier start = new CyclicBarrier(runs);
                AtomicInteger holding = new AtomicInteger();
                AtomicInteger most = new AtomicInteger();
                List<Future<Boolean>> results = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    results.add(pool.submit(() -> {
                        start.await();
                        try (RepositoryLock lock = take(Kind.BACKUP)) {
                            most.accumulateAndGet(holding.incrementAndGet(), Math::max);
                            Thread.sleep(4000);
                            holding.decrementAndGet();
                            return true;
                        } catch (DrException e) {
                            assertThat(e.failure()).isEqualTo(Failure.LOCK);
                            return false;
                        }
                    }));
                }
                int won = 0;
                for (Future<Boolean> f : results) {
                    won += f.get() ? 1 : 0;
                }
                assertThat(most.get()).isEqualTo(1);
                assertThat(won).as("round " + round).isEqualTo(1);
                assertThat(RepositoryLock.list(repository)).isEmpty();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void plant(Holder h) throws Exception {
        repository.store().put(repository.layout().lock(h.id()), Json.MAPPER.writeValueAsBytes(h));
    }
}
