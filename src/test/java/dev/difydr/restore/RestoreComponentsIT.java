package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.Failure;
import dev.difydr.source.storage.PrivkeysCheck;
import dev.difydr.source.storage.TreeSnapshot;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import dev.difydr.testsupport.RedisContent;
import dev.difydr.testsupport.RedisDataset;
import dev.difydr.testsupport.RedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * {@code restore --with redis,storage} on the douban chart: a backup set holding the databases, a Redis with every
 * type and encoding and an app storage with the tenants' private keys, restored into a fresh Redis and a fresh
 * directory alongside the databases, compared by content, with the privkeys check against the restored database.
 */
class RestoreComponentsIT extends RestoreTestBase {
    private static final String KNOWN_KEY = "session:known";
    private static RedisServer source;
    private static Path storage;
    private static Map<String, String> storageBackedUp;
    private static List<String> tenants;
    /** Every tenant's key is in the storage of this backup. */
    private static String complete;
    /** The storage of this backup lacks the last tenant's key. */
    private static String lacksAKey;

    private RedisServer target;
    private Path restoredStorage;

    @BeforeAll
    static void backUpEverything() throws IOException {
        source = RedisServer.start();
        try (Jedis jedis = source.jedis()) {
            RedisDataset.load(jedis);
            jedis.select(0);
            jedis.set(KNOWN_KEY, "backed-up value");
        }
        tenants = List.of(tb.pg.psql("dify", "-At", "-c", "SELECT id FROM tenants ORDER BY id").strip().split("\n"));
        assertThat(tenants).hasSizeGreaterThan(1);
        storage = tmp.resolve("app-storage");
        StorageFixture.writeTenantTree(storage, tenants);
        storageBackedUp = TreeSnapshot.of(storage);
        complete = backup();
        Files.delete(storage.resolve(PrivkeysCheck.keyPath(tenants.get(tenants.size() - 1))));
        lacksAKey = backup();
    }

    private static String backup() throws IOException {
        Path config = tb.config("components-backup", source.yaml(tmp.resolve("redis-password")) + "storage:\n  - {name: app, path: " + storage + "}\n");
        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");
        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode result = DifyTestbed.json(run.out());
        assertThat(result.get("artifacts")).extracting(a -> a.get("kind").asText()).containsExactly("postgres", "postgres", "redis", "storage");
        return result.get("id").asText();
    }

    @AfterAll
    static void stopSource() {
        if (source != null) {
            source.close();
        }
    }

    @BeforeEach
    void freshTargets() {
        target = RedisServer.options().noPassword().start();
        restoredStorage = tmp.resolve("restored-" + System.nanoTime());
        start(DifyChart.douban("dify"));
    }

    @AfterEach
    void stopTarget() {
        if (target != null) {
            target.close();
        }
    }

    private Path componentsConfig() {
        return config("""
                  redis: {host: %s, port: %d}
                  storage: [{name: app, path: %s}]
                """.formatted(target.host(), target.port(), restoredStorage), "");
    }

    private CliRun restore(String backup, String... more) {
        List<String> args = new ArrayList<>(List.of("--json", "restore", backup, "--with", "redis,storage"));
        args.addAll(List.of(more));
        return cliWith(componentsConfig(), args.toArray(String[]::new));
    }

    @Test
    void planNamesTheRedisAndStorageTargets() {
        CliRun run = cliWith(componentsConfig(), "restore", complete, "--plan", "--with", "redis,storage");

        assertThat(run.code()).as(run.everything()).isZero();
        assertThat(run.out())
                .contains("restore-redis", "existing keys are kept and reported (--redis-replace to replace)")
                .contains("redis/dump.rdb.zst", "-> redis " + target.host() + ":" + target.port())
                .contains("restore-storage", "storage/app.tar.zst", "-> directory " + restoredStorage)
                .contains("privkeys/<tenant_id>/private.pem");
        assertThat(Files.exists(restoredStorage)).isFalse();
        try (Jedis jedis = target.jedis()) {
            assertThat(jedis.dbSize()).isZero();
        }
    }

    /**
     * A stored artifact damaged after its backup (same size, other bytes) is found in preflight, by reading it end to
     * end, before any writer stops or any key or file reaches a live target.
     */
    @Test
    void aDamagedStorageOrRedisArtifactIsRefusedBeforeAnythingIsStoppedOrWritten() throws IOException {
        String before = clusterState();
        for (String artifact : List.of("storage/app.tar.zst", "redis/dump.rdb.zst")) {
            Path stored = tb.repository.resolve("dify/backups/" + complete + "/" + artifact);
            byte[] original = Files.readAllBytes(stored);
            byte[] damaged = original.clone();
            damaged[damaged.length - 5] ^= 0x40;
            Files.write(stored, damaged);
            try {
                CliRun run = restore(complete, "--yes");

                assertThat(run.code()).as(run.everything()).isEqualTo(Failure.VERIFY.exitCode());
                assertThat(run.everything()).contains("fails verification, refusing to restore it", artifact);
                assertThat(clusterState()).isEqualTo(before);
                assertThat(Files.exists(restoredStorage)).isFalse();
                try (Jedis jedis = target.jedis()) {
                    assertThat(jedis.dbSize()).isZero();
                }
                assertThat(tb.databases()).noneMatch(db -> db.contains("_restore_"));
            } finally {
                Files.write(stored, original);
            }
        }
    }

    @Test
    void restoresRedisAndStorageWithTheDatabasesAndChecksEveryTenantsKey() {
        CliRun run = restore(complete, "--yes");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode journal = DifyTestbed.json(run.out());
        assertThat(journal.get("state").asText()).isEqualTo("completed");
        assertThat(journal.get("steps")).extracting(s -> s.get("name").asText())
                .containsSubsequence("validate", "restore-redis", "restore-storage", "rewire");
        assertThat(journal.get("components")).allSatisfy(c -> assertThat(c.get("restored").asBoolean()).isTrue());
        String main = "dify_restore_" + complete.toLowerCase(java.util.Locale.ROOT).replace("z-", "_");
        assertThat(step(journal, "restore-storage")).contains("privkeys: all " + tenants.size() + " tenants of " + main);
        // compared with the source as it is now, so that both sides' TTLs have run down alike
        try (Jedis restored = target.jedis(); Jedis now = source.jedis()) {
            assertThat(RedisContent.of(now, RedisDataset.DATABASES).differences(RedisContent.of(restored, RedisDataset.DATABASES))).isEmpty();
        }
        assertThat(TreeSnapshot.of(restoredStorage)).isEqualTo(storageBackedUp);
        assertThat(databaseOf(chart.api(), chart.apiContainer())).isEqualTo(main);
        assertThat(run.everything()).doesNotContain(source.password());
    }

    @Test
    void existingKeysAndFilesAreKeptAndReportedUnlessReplacing() throws IOException {
        Path differing = restoredStorage.resolve(PrivkeysCheck.keyPath(tenants.get(0)));
        Files.createDirectories(differing.getParent());
        Files.writeString(differing, "a key someone made since");
        try (Jedis jedis = target.jedis()) {
            jedis.set(KNOWN_KEY, "newer value");
        }

        CliRun run = restore(complete, "--yes");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode journal = DifyTestbed.json(run.out());
        assertThat(journal.get("warnings").toString())
                .contains("1 Redis keys already existed", KNOWN_KEY, "--redis-replace")
                .contains("1 files in directory " + restoredStorage + " differ from the backup", PrivkeysCheck.keyPath(tenants.get(0)), "--storage-overwrite");
        assertThat(Files.readString(differing)).isEqualTo("a key someone made since");
        try (Jedis jedis = target.jedis()) {
            assertThat(jedis.get(KNOWN_KEY)).isEqualTo("newer value");
        }
    }

    @Test
    void aMissingPrivateKeyIsALoudWarning() {
        CliRun run = restore(lacksAKey, "--yes");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode journal = DifyTestbed.json(run.out());
        String missing = tenants.get(tenants.size() - 1);
        assertThat(journal.get("warnings").toString()).contains("PRIVKEYS MISSING", "1 of " + tenants.size() + " workspaces", missing);
        assertThat(run.logs()).contains("have no privkeys/<tenant>/private.pem", missing);
    }

    @Test
    void aMissingPrivateKeyFailsAStrictRestoreWhichRollsBack() {
        CliRun run = restore(lacksAKey, "--yes", "--strict");

        assertThat(run.code()).as(run.everything()).isEqualTo(Failure.ROLLED_BACK.exitCode());
        JsonNode journal = DifyTestbed.json(run.out());
        assertThat(journal.get("state").asText()).isEqualTo("rolled_back");
        assertThat(journal.get("failure").asText()).contains(tenants.get(tenants.size() - 1), "privkeys");
        assertThat(journal.get("steps")).extracting(s -> s.get("name").asText()).doesNotContain("rewire");
        assertThat(databaseOf(chart.api(), chart.apiContainer())).isEqualTo("dify");
    }

    @Test
    void aBackupWithoutRedisIsRefusedBeforeAnythingChanges() {
        CliRun run = cliWith(componentsConfig(), "restore", tb.backupId, "--yes", "--with", "redis");

        assertThat(run.code()).as(run.everything()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(run.everything()).contains("backup " + tb.backupId + " holds no Redis snapshot");
        assertThat(replicas(chart.api())).isEqualTo(1);
    }

    @Test
    void aPodTargetOfADeploymentTheRestoreStopsIsRefusedBeforeAnythingChanges() {
        Map<String, String> apiPods = k8s().apps().deployments().withName(chart.api()).get().getSpec().getSelector().getMatchLabels();
        String selector = String.join(",", apiPods.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
        Path config = config("""
                  storage: [{name: app, pod: {selector: '%s', path: /app/api/storage}}]
                """.formatted(selector), "");

        CliRun run = cliWith(config, "restore", complete, "--plan", "--with", "storage");

        assertThat(run.code()).as(run.everything()).isEqualTo(Failure.USAGE.exitCode());
        assertThat(run.everything()).contains("storage 'app' would be restored into pod", "of Deployment " + chart.api(),
                "restore.storage (path)");
        assertThat(replicas(chart.api())).isEqualTo(1);
    }

    private static String step(JsonNode journal, String name) {
        return StreamSupport.stream(journal.get("steps").spliterator(), false).filter(s -> s.get("name").asText().equals(name))
                .findFirst().map(s -> s.get("detail").asText()).orElseThrow();
    }
}
