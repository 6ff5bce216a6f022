package dev.difydr.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.ZstdInputStream;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.CompressionConfig;
import dev.difydr.config.RedisConfig;
import dev.difydr.config.Secret;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.RedisFacts;
import dev.difydr.repository.RepositoryLayout;
import dev.difydr.source.redis.RedisRestore;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.Commands;
import dev.difydr.testsupport.RedisContent;
import dev.difydr.testsupport.RedisDataset;
import dev.difydr.testsupport.RedisServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * Redis backups taken from real servers restore into fresh ones with the same content (type by type, TTLs within a
 * second): through the replication handshake with a password and with an ACL user, through the SCAN/DUMP fallback
 * when SYNC and PSYNC are refused, over TLS, and end to end through the command line.
 */
class RedisRoundTripIT {
    private static final int[] DBS = RedisDataset.DATABASES;
    private static RedisServer source;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        source = RedisServer.start();
        try (Jedis j = source.jedis()) {
            RedisDataset.load(j);
        }
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
        }
    }

    /** One stored artifact and the facts of the backup that wrote it. */
    record Backup(RedisFacts facts, Path artifact) {
        InputStream plain() throws IOException {
            return new ZstdInputStream(Files.newInputStream(artifact));
        }

        byte[] plainBytes() throws IOException {
            try (InputStream in = plain()) {
                return in.readAllBytes();
            }
        }
    }

    static Backup backup(RedisConfig config) {
        Path root = tmp.resolve("repo-" + System.nanoTime());
        BackupId id = BackupId.at(Instant.now());
        BackupContext context = new BackupContext(id, new RepositoryLayout("test"), new FileObjectStore(root), null,
                CompressionConfig.DEFAULT, name -> Progress.none());
        try (RedisBackup component = new RedisBackup(config)) {
            component.preflight();
            RedisFacts facts = component.backup(context);
            Artifact artifact = context.artifacts().get(0);
            assertThat(artifact.kind()).isEqualTo("redis");
            assertThat(artifact.path()).isEqualTo(new RepositoryLayout("test").redisSnapshot(id, facts.format()));
            return new Backup(facts, root.resolve(artifact.path()));
        }
    }

    static RedisRestore.Result restore(Backup backup, RedisServer target, boolean replace) throws IOException {
        try (InputStream in = backup.plain()) {
            return new RedisRestore(target.config()).restore(in, backup.facts().format(), replace);
        }
    }

    /** Both read now, so that TTLs counting down compare. */
    static void assertSameContent(RedisServer from, RedisServer target) {
        try (Jedis f = from.jedis(); Jedis j = target.jedis()) {
            assertThat(RedisContent.of(f, DBS).differences(RedisContent.of(j, DBS))).isEmpty();
        }
    }

    @Test
    void comparisonSeesADifference() {
        try (RedisServer a = RedisServer.start(); RedisServer b = RedisServer.start(); Jedis ja = a.jedis(); Jedis j = b.jedis()) {
            RedisDataset.load(ja);
            RedisDataset.load(j);
            assertThat(RedisContent.of(ja, DBS).differences(RedisContent.of(j, DBS))).isEmpty();
            j.select(1);
            j.lset("db1:list:large", 7, "changed");
            j.pexpire("db1:set:small", 50_000);
            j.select(5);
            j.xack("db5:stream", "workers", j.xpending("db5:stream", "workers").getMinId());
            assertThat(RedisContent.of(ja, DBS).differences(RedisContent.of(j, DBS)))
                    .anyMatch(d -> d.startsWith("differs 1:") && d.contains("list"))
                    .anyMatch(d -> d.startsWith("ttl of 1:"))
                    .anyMatch(d -> d.startsWith("differs 5:") && d.contains("stream"))
                    .hasSize(3);
        }
    }

    @Test
    void snapshotWithPasswordRestoresIntoAnEmptyRedis() throws IOException {
        Backup backup = backup(source.config());
        RedisFacts f = backup.facts();
        assertThat(f.format()).isEqualTo("rdb");
        assertThat(f.fallbackReason()).isNull();
        assertThat(f.version()).startsWith("7.");
        assertThat(f.rdbVersion()).isEqualTo(10);
        assertThat(f.keys()).containsExactlyInAnyOrderEntriesOf(Map.of(0, 19L, 1, 19L, 5, 19L));
        assertThat(f.unsupported()).isNull();
        assertThat(new String(Arrays.copyOf(backup.plainBytes(), 9))).isEqualTo("REDIS0010");

        try (RedisServer target = RedisServer.start()) {
            RedisRestore.Result r = restore(backup, target, false);
            assertThat(r.restored()).containsExactlyInAnyOrderEntriesOf(Map.of(0, 19L, 1, 19L, 5, 19L));
            assertThat(r.kept()).isZero();
            assertThat(r.expiredSkipped()).isZero();
            assertThat(r.unsupported()).isEmpty();
            assertSameContent(source, target);
        }
    }

    @Test
    void snapshotAsAclUserFromADiskBasedTransfer() throws IOException {
        try (RedisServer acl = RedisServer.options().aclUser("backup").diskSync().start()) {
            try (Jedis j = acl.jedis()) {
                RedisDataset.load(j);
            }
            Backup backup = backup(acl.config());
            assertThat(backup.facts().format()).isEqualTo("rdb");
            try (RedisServer target = RedisServer.start()) {
                restore(backup, target, false);
                assertSameContent(acl, target);
            }
        }
    }

    @Test
    void refusedHandshakeFallsBackToKeysWithOneLogLine() throws IOException {
        try (RedisServer managed = RedisServer.options().refuseReplication().start()) {
            try (Jedis j = managed.jedis()) {
                RedisDataset.load(j);
            }
            Logger logger = (Logger) LoggerFactory.getLogger(RedisBackup.class);
            ListAppender<ILoggingEvent> logs = new ListAppender<>();
            logs.start();
            logger.addAppender(logs);
            Backup backup;
            try {
                backup = backup(managed.config());
            } finally {
                logger.detachAppender(logs);
            }
            assertThat(backup.facts().format()).isEqualTo("keys");
            assertThat(backup.facts().fallbackReason()).contains("unknown command").contains("PSYNC");
            assertThat(backup.facts().keys()).containsExactlyInAnyOrderEntriesOf(Map.of(0, 19L, 1, 19L, 5, 19L));
            assertThat(logs.list).filteredOn(e -> e.getFormattedMessage().contains("falling back")).singleElement()
                    .satisfies(e -> assertThat(e.getFormattedMessage()).contains("unknown command").contains(managed.port() + ""));
            assertThat(new String(Arrays.copyOf(backup.plainBytes(), 20))).isEqualTo("DIFYDR-REDIS-KEYS 1\n");

            try (RedisServer target = RedisServer.start()) {
                RedisRestore.Result r = restore(backup, target, false);
                assertThat(r.restoredTotal()).isEqualTo(57);
                assertSameContent(managed, target);
            }

            DrException e = catchThrowableOfType(DrException.class, () -> backup(managed.config(RedisConfig.RDB)));
            assertThat(e.failure()).isEqualTo(Failure.SOURCE);
            assertThat(e.getMessage()).contains("refuses the replication handshake").contains("redis.mode");
        }
    }

    @Test
    void existingKeysAreKeptUnlessReplaceIsAsked() throws IOException {
        Backup backup = backup(source.config());
        try (RedisServer target = RedisServer.start(); Jedis j = target.jedis()) {
            j.set("db0:str:short", "target's own");
            j.select(1);
            j.set("db1:list:small", "not a list here");
            j.select(0);

            RedisRestore.Result kept = restore(backup, target, false);
            assertThat(kept.kept()).isEqualTo(2);
            assertThat(kept.keptNames()).containsExactlyInAnyOrder("db0:str:short", "db1:list:small");
            assertThat(kept.restoredTotal()).isEqualTo(55);
            assertThat(j.get("db0:str:short")).isEqualTo("target's own");

            RedisRestore.Result replaced = restore(backup, target, true);
            assertThat(replaced.kept()).isZero();
            assertThat(replaced.restoredTotal()).isEqualTo(57);
            assertSameContent(source, target);
        }
    }

    @Test
    void keyExpiredBetweenBackupAndRestoreIsSkipped() throws IOException {
        try (RedisServer s = RedisServer.start()) {
            long expiresAt = System.currentTimeMillis() + 4000;
            try (Jedis j = s.jedis()) {
                j.set("stays", "1");
                j.set("goes", "2");
                j.pexpireAt("goes", expiresAt);
            }
            Backup backup = backup(s.config());
            assertThat(backup.facts().keys()).containsExactlyEntriesOf(Map.of(0, 2L));
            try (RedisServer target = RedisServer.start(); Jedis t = target.jedis()) {
                sleep(Math.max(0, expiresAt + 200 - System.currentTimeMillis()));
                RedisRestore.Result r = restore(backup, target, false);
                assertThat(r.expiredSkipped()).isEqualTo(1);
                assertThat(r.restoredTotal()).isEqualTo(1);
                assertThat(t.exists("goes")).isFalse();
                assertThat(t.get("stays")).isEqualTo("1");
            }
        }
    }

    @Test
    void wrongPasswordIsASourceErrorThatNamesTheServerButNotThePassword() {
        String wrong = "definitely-wrong-" + System.nanoTime();
        RedisConfig bad = new RedisConfig(source.host(), source.port(), null, Secret.of(wrong), false, null, "auto", false, 5);
        DrException e = catchThrowableOfType(DrException.class, () -> backup(bad));
        assertThat(e.failure()).isEqualTo(Failure.SOURCE);
        assertThat(DrException.describe(e)).contains(source.host() + ":" + source.port()).contains("redis.password")
                .doesNotContain(wrong).doesNotContain(source.password());

        RedisConfig refused = new RedisConfig("127.0.0.1", 1, null, null, false, null, "auto", false, 5);
        DrException r = catchThrowableOfType(DrException.class, () -> backup(refused));
        assertThat(r.failure()).isEqualTo(Failure.SOURCE);
        assertThat(r.getMessage()).contains("127.0.0.1:1").contains("is Redis running");
    }

    @Test
    void truncatedOrMislabelledSnapshotsAreRefused() throws IOException {
        Backup rdb = backup(source.config());
        Backup keys = backup(source.config(RedisConfig.LOGICAL));
        assertThat(keys.facts().format()).isEqualTo("keys");
        assertThat(keys.facts().fallbackReason()).isNull();
        try (RedisServer target = RedisServer.start()) {
            for (Backup b : List.of(rdb, keys)) {
                byte[] whole = b.plainBytes();
                for (int cut : new int[] {whole.length / 2, whole.length - 1}) {
                    byte[] part = Arrays.copyOf(whole, cut);
                    DrException e = catchThrowableOfType(DrException.class, () -> new RedisRestore(target.config())
                            .restore(new ByteArrayInputStream(part), b.facts().format(), true));
                    assertThat(e).as("%s cut at %d of %d", b.facts().format(), cut, whole.length).isNotNull();
                    assertThat(e.failure()).isEqualTo(Failure.VERIFY);
                    assertThat(e.getMessage()).contains("truncated");
                }
            }
            assertThatThrownBy(() -> new RedisRestore(target.config()).restore(rdb.plain(), "keys", false))
                    .isInstanceOf(DrException.class).hasMessageContaining("recorded as 'keys' but its content is 'rdb'");
            RedisRestore.Result r = restore(keys, target, true);
            assertThat(r.restoredTotal()).isEqualTo(57);
            assertSameContent(source, target);
        }
    }

    @Test
    void tlsWithCustomCa() throws IOException {
        assumeTrue(RedisServer.tlsAvailable(), "redis-server without TLS support or no openssl: TLS NOT TESTED");
        try (RedisServer tls = RedisServer.options().tls().start()) {
            try (Jedis j = tls.jedis()) {
                RedisDataset.load(j);
            }
            Backup backup = backup(tls.config());
            assertThat(backup.facts().format()).isEqualTo("rdb");
            try (RedisServer target = RedisServer.options().tls().start()) {
                restore(backup, target, false);
                assertSameContent(tls, target);
            }
            // the certificate names localhost and 127.0.0.1 but is not trusted without the CA
            RedisConfig untrusted = new RedisConfig(tls.host(), tls.port(), null, Secret.of(tls.password()), true, null, "rdb", false, 5);
            DrException e = catchThrowableOfType(DrException.class, () -> backup(untrusted));
            assertThat(e.failure()).isEqualTo(Failure.SOURCE);
            assertThat(e.getMessage()).contains("TLS");
        }
    }

    @Test
    void commandLineBackupStoresAnRdbTheServerLoads() throws IOException {
        Path root = tmp.resolve("cli-repo");
        Path config = tmp.resolve("cli.yaml");
        Files.writeString(config, "deployment: cli-test\nrepository:\n  url: " + root.toUri() + "\n" + source.yaml(tmp.resolve("redis-pw")));
        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup", "--only", "redis");
        assertThat(run.code()).as("stdout:%n%s%nstderr:%n%s", run.out(), run.err()).isZero();
        assertThat(run.everything()).doesNotContain(source.password());
        JsonNode result = new ObjectMapper().readTree(run.out());
        JsonNode artifact = result.get("artifacts").get(0);
        assertThat(artifact.get("kind").asText()).isEqualTo("redis");
        assertThat(artifact.get("path").asText()).endsWith("/redis/dump.rdb.zst");

        Path rdb = tmp.resolve("dump.rdb");
        Commands.run(List.of("sh", "-c", "zstd -dc '" + root.resolve(artifact.get("path").asText()) + "' > '" + rdb + "'"), Map.of(), tmp);
        if (Files.isExecutable(Path.of("/usr/bin/redis-check-rdb"))) {
            assertThat(Commands.run(List.of("redis-check-rdb", rdb.toString()), Map.of(), tmp)).contains("RDB looks OK");
        }
        try (RedisServer loaded = RedisServer.options().dbfilename(rdb).start()) {
            assertSameContent(source, loaded);
        }

        Files.writeString(tmp.resolve("redis-pw"), "wrong-password-" + System.nanoTime() + "\n");
        CliRun failed = CliRun.of("--config", config.toString(), "backup", "--only", "redis");
        assertThat(failed.code()).isEqualTo(Failure.SOURCE.exitCode());
        assertThat(failed.everything()).contains("Redis at " + source.host() + ":" + source.port()).contains("redis.password");
        assertThat(failed.everything()).doesNotContain(Files.readString(tmp.resolve("redis-pw")).strip()).doesNotContain(source.password());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
