package dev.difydr.retention;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.config.RetentionConfig;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Repository;
import dev.difydr.store.Upload;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.testsupport.HandMadeBackups;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What prune counts and what it leaves alone, on a file repository with a fixed clock. */
class PruneRunTest {
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    @TempDir
    Path root;

    private Repository repository;

    @BeforeEach
    void open() {
        repository = new Repository(new FileObjectStore(root), "prod");
    }

    @AfterEach
    void close() {
        repository.close();
    }

    private String completed(Duration ago) {
        String id = BackupId.at(NOW.minus(ago)).value();
        HandMadeBackups.write(repository, id);
        return id;
    }

    private static RetentionConfig keepLast(int n, String grace) {
        return new RetentionConfig(n, null, null, null, null, null, null, null, null, grace);
    }

    private static List<String> ids(List<PruneResult.Backup> backups, String decision) {
        return backups.stream().filter(b -> b.decision().equals(decision)).map(PruneResult.Backup::id).toList();
    }

    @Test
    void hourlyBackupsOfRedisAloneAreKeptByTheRulesOnTheirOwnAndNeverPushTheFullBackupsOut() {
        List<String> full = new java.util.ArrayList<>();
        List<String> redis = new java.util.ArrayList<>();
        for (int day = 3; day >= 1; day--) {
            full.add(completed(Duration.ofDays(day).plusHours(10)));
            for (int hour = 9; hour >= 1; hour -= 4) {
                String id = BackupId.at(NOW.minus(Duration.ofDays(day).plusHours(hour))).value();
                HandMadeBackups.writeRedisOnly(repository, id);
                redis.add(id);
            }
        }
        RetentionConfig keepDaily2 = new RetentionConfig(null, null, 2, null, null, null, null, null, null, null);

        PruneResult result = new PruneRun(repository, keepDaily2, CLOCK).run(false);

        // a policy over all backups together would keep the last Redis backup of each day and remove every full one
        assertThat(ids(result.backups(), PruneResult.KEEP)).containsExactlyInAnyOrder(full.get(2), full.get(1), redis.get(8), redis.get(5));
        assertThat(result.backups()).filteredOn(b -> full.contains(b.id())).allSatisfy(b -> assertThat(b.group()).isEqualTo("postgres"));
        assertThat(result.backups()).filteredOn(b -> redis.contains(b.id())).allSatisfy(b -> assertThat(b.group()).isEqualTo("redis"));
        assertThat(result.toText()).contains("completed  daily  [postgres]", "completed  [redis]");

        assertThat(new PruneRun(repository, keepDaily2, CLOCK).run(true).removed()).isEqualTo(8);

        assertThat(repository.resolve("latest").id()).isEqualTo(full.get(2));
        // a backup whose optional Redis part failed belongs with the backups of PostgreSQL and Redis, not alone
        String failedRedis = BackupId.at(NOW.minus(Duration.ofHours(1))).value();
        HandMadeBackups.writeSkipping(repository, failedRedis, "redis");
        HandMadeBackups.writeSkipping(repository, BackupId.at(NOW.minus(Duration.ofHours(2))).value(), "redis");
        assertThat(new PruneRun(repository, keepDaily2, CLOCK).run(false).backups()).filteredOn(b -> b.id().equals(failedRedis))
                .singleElement().satisfies(b -> assertThat(b.group()).isEqualTo("postgres+redis"));
    }

    @Test
    void failedAndDamagedBackupsNeverCountTowardARule() {
        String older = completed(Duration.ofDays(3));
        String newest = completed(Duration.ofDays(2));
        String failed = BackupId.at(NOW.minus(Duration.ofHours(30))).value();
        HandMadeBackups.write(repository, failed, new BackupId(failed).time(), "failed");
        String damaged = completed(Duration.ofHours(12));
        repository.store().put(repository.layout().manifest(new BackupId(damaged)), "[]".getBytes(StandardCharsets.UTF_8));

        PruneResult result = new PruneRun(repository, keepLast(1, null), CLOCK).run(false);

        assertThat(ids(result.backups(), PruneResult.KEEP)).containsExactly(damaged, newest);
        assertThat(ids(result.backups(), PruneResult.REMOVE)).containsExactly(older);
        assertThat(result.backups().get(0).reasons()).containsExactly(PruneRun.DAMAGED);
        assertThat(result.incomplete()).singleElement().satisfies(i -> {
            assertThat(i.id()).isEqualTo(failed);
            assertThat(i.status()).isEqualTo("failed");
            assertThat(i.decision()).isEqualTo(PruneResult.REMOVE);
        });
        assertThat(result.kept()).isEqualTo(2);
        assertThat(result.removed()).isEqualTo(1);
        assertThat(result.toText()).contains("remove  " + older, "keep    " + damaged + "  damaged    damaged: inspect and delete by hand",
                "nothing was deleted: run 'prune --yes'");

        new PruneRun(repository, keepLast(1, null), CLOCK).run(true);

        assertThat(repository.list(true)).extracting(e -> e.id().value()).containsExactly(damaged, newest);
    }

    @Test
    void theGracePeriodIsMeasuredFromTheRunsIdAndIsStrict() {
        completed(Duration.ofDays(1));
        BackupId atGrace = BackupId.at(NOW.minus(Duration.ofMinutes(90)));
        BackupId pastGrace = BackupId.at(NOW.minus(Duration.ofMinutes(90)).minusSeconds(1));
        for (BackupId id : List.of(atGrace, pastGrace)) {
            repository.store().put(repository.layout().postgresDump(id, "dify"), new byte[3]);
        }

        PruneResult result = new PruneRun(repository, keepLast(1, "90m"), CLOCK).run(true);

        assertThat(result.incomplete()).extracting(PruneResult.Incomplete::id, PruneResult.Incomplete::decision).containsExactly(
                org.assertj.core.groups.Tuple.tuple(atGrace.value(), PruneResult.KEEP),
                org.assertj.core.groups.Tuple.tuple(pastGrace.value(), PruneResult.REMOVE));
        assertThat(repository.store().list(repository.layout().backupPrefix(atGrace))).hasSize(1);
        assertThat(repository.store().list(repository.layout().backupPrefix(pastGrace))).isEmpty();
    }

    @Test
    void withoutARuleEveryCompletedBackupStaysAndLeftoversStillGo() {
        String a = completed(Duration.ofDays(40));
        String b = completed(Duration.ofDays(1));
        BackupId dead = BackupId.at(NOW.minus(Duration.ofDays(2)));
        repository.store().put(repository.layout().redisSnapshot(dead, "rdb"), new byte[1]);

        PruneResult result = new PruneRun(repository, RetentionConfig.NONE, CLOCK).run(true);

        assertThat(ids(result.backups(), PruneResult.KEEP)).containsExactly(b, a);
        assertThat(result.backups()).allSatisfy(x -> assertThat(x.reasons()).containsExactly(RetentionPolicy.NO_RULE));
        assertThat(repository.list(true)).extracting(e -> e.id().value()).containsExactly(b, a);
    }

    @Test
    void oldTemporaryFilesOfUnfinishedWritesAreAbortedOnAFileRepository() throws Exception {
        completed(Duration.ofDays(1));
        Upload old = repository.store().create("prod/backups/20261101T000000Z-aaaaaa/postgres/dify.dump.zst");
        Upload young = repository.store().create("prod/backups/20261201T110000Z-bbbbbb/postgres/dify.dump.zst");
        Upload otherDeployment = repository.store().create("staging/backups/20261101T000000Z-cccccc/postgres/dify.dump.zst");
        try {
            old.write(new byte[10]);
            young.write(new byte[10]);
            otherDeployment.write(new byte[10]);
            try (Stream<Path> files = Files.walk(root)) {
                for (Path p : files.filter(f -> f.getFileName().toString().contains(".partial-")).toList()) {
                    // real time, not the fixed clock, dates the temp files: date them relative to NOW
                    boolean isYoung = p.toString().contains("bbbbbb");
                    Files.setLastModifiedTime(p, FileTime.from(NOW.minus(isYoung ? Duration.ofHours(1) : Duration.ofDays(30))));
                }
            }

            PruneResult plan = new PruneRun(repository, keepLast(1, null), CLOCK).run(false);
            assertThat(plan.uploadsAborted()).isEqualTo(1);
            assertThat(plan.uploadsPending()).isEqualTo(1);
            assertThat(repository.pendingUploads()).hasSize(2);

            PruneResult done = new PruneRun(repository, keepLast(1, null), CLOCK).run(true);

            assertThat(done.uploadsAborted()).isEqualTo(1);
            assertThat(repository.pendingUploads()).extracting(u -> u.key()).containsExactly("prod/backups/20261201T110000Z-bbbbbb/postgres/dify.dump.zst");
            assertThat(repository.store().pendingUploads("staging/")).hasSize(1);
        } finally {
            old.close();
            young.close();
            otherDeployment.close();
        }
    }
}
