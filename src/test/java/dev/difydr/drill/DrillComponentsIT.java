package dev.difydr.drill;

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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** The drill also restores the backup's Redis and file storage into scratch targets, checks privkeys, and empties them. */
class DrillComponentsIT {
    @TempDir
    static Path tmp;
    static DifyTestbed tb;
    static RedisServer source;
    static Map<String, String> storageBackedUp;
    static int tenants;
    static String backupId;

    RedisServer scratch;
    Path scratchDir;

    @BeforeAll
    static void backUpEverything() throws IOException {
        tb = DifyTestbed.start(tmp);
        source = RedisServer.start();
        try (Jedis jedis = source.jedis()) {
            RedisDataset.load(jedis);
        }
        Path storage = tmp.resolve("app-storage");
        List<String> ids = List.of(tb.pg.psql("dify", "-At", "-c", "SELECT id FROM tenants").strip().split("\n"));
        tenants = ids.size();
        for (String id : ids) {
            Path key = storage.resolve(PrivkeysCheck.keyPath(id));
            Files.createDirectories(key.getParent());
            Files.writeString(key, "key of " + id);
        }
        Files.writeString(storage.resolve("upload.txt"), "an upload");
        storageBackedUp = TreeSnapshot.of(storage);
        Path config = tb.config("components-backup", source.yaml(tmp.resolve("redis-password")) + "storage:\n  - {name: app, path: " + storage + "}\n");
        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");
        assertThat(run.code()).as(run.everything()).isZero();
        backupId = DifyTestbed.json(run.out()).get("id").asText();
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
        }
        if (tb != null) {
            tb.close();
        }
    }

    @BeforeEach
    void scratchTargets() {
        scratch = RedisServer.options().noPassword().start();
        scratchDir = tmp.resolve("scratch-" + System.nanoTime());
    }

    @AfterEach
    void cleanUp() {
        scratch.close();
        tb.dropCopies();
    }

    private CliRun drill(String... args) {
        Path config = tb.config("drill-components", """
                drill:
                  redis: {host: %s, port: %d}
                  storage: [{name: app, path: %s}]
                """.formatted(scratch.host(), scratch.port(), scratchDir));
        return CliRun.of(Stream.concat(Stream.of("--config", config.toString(), "--json", "drill"), Stream.of(args)).toArray(String[]::new));
    }

    @Test
    void keptScratchTargetsHoldExactlyWhatWasBackedUp() throws IOException {
        CliRun run = drill(backupId, "--keep");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode report = DifyTestbed.json(run.out());
        assertThat(report.get("status").asText()).isEqualTo("passed");
        assertThat(report.get("steps")).extracting(s -> s.get("name").asText())
                .containsExactly("preflight", "restore-databases", "validate", "restore-redis", "restore-storage");
        assertThat(report.get("components")).hasSize(2).allSatisfy(c -> assertThat(c.get("restored").asBoolean()).isTrue());
        assertThat(report.toString()).contains("privkeys: all " + tenants + " tenants");
        // compared with the source as it is now, so that both sides' TTLs have run down alike
        try (Jedis restored = scratch.jedis(); Jedis now = source.jedis()) {
            assertThat(RedisContent.of(now, RedisDataset.DATABASES).differences(RedisContent.of(restored, RedisDataset.DATABASES))).isEmpty();
        }
        assertThat(TreeSnapshot.of(scratchDir)).isEqualTo(storageBackedUp);
        String md = Files.readString(tb.repository.resolve("dify/drills/" + report.get("id").asText() + "/report.md"));
        assertThat(md).contains("## Redis, file storage and configuration", "| redis redis |", "| storage app | directory " + scratchDir + " (kept)");
    }

    @Test
    void scratchTargetsAreEmptiedAfterwards() throws IOException {
        CliRun run = drill(backupId);

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode report = DifyTestbed.json(run.out());
        assertThat(report.get("steps").get(report.get("steps").size() - 1).get("detail").asText())
                .contains("emptied redis " + scratch.host() + ":" + scratch.port(), "directory " + scratchDir);
        try (Jedis jedis = scratch.jedis()) {
            for (int db : RedisDataset.DATABASES) {
                jedis.select(db);
                assertThat(jedis.dbSize()).isZero();
            }
        }
        try (Stream<Path> left = Files.list(scratchDir)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void aScratchRedisThatHoldsKeysIsRefusedBeforeAnythingIsRestored() {
        try (Jedis jedis = scratch.jedis()) {
            jedis.set("someone's", "data");
        }

        CliRun run = drill(backupId);

        assertThat(run.code()).as(run.everything()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(DifyTestbed.json(run.out()).get("failure").asText()).contains("drill.redis", "is not empty");
        try (Jedis jedis = scratch.jedis()) {
            assertThat(jedis.dbSize()).isEqualTo(1);
            assertThat(jedis.get("someone's")).isEqualTo("data");
        }
        assertThat(scratchDir).doesNotExist();
        assertThat(tb.databases()).noneMatch(db -> db.contains("_drill_"));
    }

    @Test
    void componentsWithoutAScratchTargetAreReportedAsNotDrilled() {
        Path config = tb.config("drill-databases-only", "");

        CliRun run = CliRun.of("--config", config.toString(), "--json", "drill", backupId);

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode report = DifyTestbed.json(run.out());
        assertThat(report.get("notDrilled").toString()).contains("redis (set drill.redis", "storage (set drill.storage");
    }
}
