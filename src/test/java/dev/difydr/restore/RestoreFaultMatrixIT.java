package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.source.storage.TreeSnapshot;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import dev.difydr.testsupport.LocalPostgres;
import dev.difydr.testsupport.RedisContent;
import dev.difydr.testsupport.RedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import redis.clients.jedis.Jedis;

/**
 * The fault matrix: on every chart, {@code restore --with redis,storage} killed with SIGKILL right after each step,
 * inside pg_restore, between two value changes of the rewire and inside the rollback of a failed restore, then {@code restore --resume} or, separately, {@code restore --rollback}. Each must end with
 * every writer at its recorded replicas, every Deployment on one set of databases (all old after a rollback, all
 * restored after a resume), smoke checks passing, the lock released and the live databases untouched.
 */
@Tag("faults")
class RestoreFaultMatrixIT extends RestoreTestBase {
    static final String INSIDE_PG_RESTORE = "inside-pg_restore";
    /** Between the first and the second value the rewire changes: some Deployments would read old, some new databases. */
    static final String INSIDE_REWIRE = "inside-rewire";
    /** Steps of the rollback that follows a failure after scale-up: a rollback killed there is finished by either recovery. */
    static final List<String> ROLLBACK_STEPS = List.of(Rollback.SCALE_DOWN, Rollback.REWIRE_BACK);
    static final List<String> KILL_POINTS = List.of("record", "scale-down", INSIDE_PG_RESTORE, "restore-databases", "validate",
            "restore-redis", "restore-storage", INSIDE_REWIRE, "rewire", "scale-up", "smoke-checks", Rollback.SCALE_DOWN, Rollback.REWIRE_BACK);

    private static RedisServer source;
    private static Path storage;
    private static Map<String, String> storageBackedUp;
    private static Map<String, String> liveDumps;
    /** The backup with Redis and storage that every case restores: the newest, so "latest". */
    private static String backupId;

    private RedisServer target;
    private Path restoredStorage;
    private Path restoreTemp;

    @BeforeAll
    static void backUpEverything() throws IOException {
        source = RedisServer.options().noPassword().start();
        try (Jedis jedis = source.jedis()) {
            jedis.set("session:a", "one");
            jedis.hset("celery", Map.of("task", "x", "eta", "2026"));
            jedis.select(1);
            jedis.rpush("queue", "a", "b", "c");
        }
        storage = tmp.resolve("matrix-storage");
        StorageFixture.writeTenantTree(storage, List.of(tb.pg.psql("dify", "-At", "-c", "SELECT id FROM tenants ORDER BY id").strip().split("\n")));
        storageBackedUp = TreeSnapshot.of(storage);
        Path config = tb.config("matrix-backup", source.yaml(tmp.resolve("matrix-redis-password")) + "storage:\n  - {name: app, path: " + storage + "}\n");
        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup");
        assertThat(run.code()).as(run.everything()).isZero();
        backupId = DifyTestbed.json(run.out()).get("id").asText();
        liveDumps = new LinkedHashMap<>();
        for (String db : DifyTestbed.DATABASES) {
            liveDumps.put(db, tb.pg.comparableDump(db));
        }
    }

    @AfterAll
    static void stopSource() {
        if (source != null) {
            source.close();
        }
    }

    @AfterEach
    void stopTarget() {
        if (target != null) {
            target.close();
        }
    }

    static Stream<Arguments> matrix() {
        return charts().flatMap(chart -> KILL_POINTS.stream().flatMap(point -> Stream.of("resume", "rollback")
                .map(recovery -> Arguments.of(chart, point, recovery))));
    }

    @ParameterizedTest(name = "{0}: killed after {1}, then --{2}")
    @MethodSource("matrix")
    void killedRestoreIsResumedOrRolledBackToOneConsistentState(DifyChart chart, String point, String recovery) throws Exception {
        target = RedisServer.options().noPassword().start();
        restoredStorage = tmp.resolve("matrix-restored-" + System.nanoTime());
        start(chart);
        scale(chart.api(), 2);
        String before = clusterState();
        restoreTemp = Files.createDirectories(tmp.resolve("matrix-temp-" + System.nanoTime()));
        Path config = config("""
                  redis: {host: %s, port: %d}
                  storage: [{name: app, path: %s}]
                  tempDir: %s
                """.formatted(target.host(), target.port(), restoredStorage, restoreTemp), "");

        String id = killedAt(point, config);

        CliRun recovered = cliWith(config, "--json", "restore", "--" + recovery, id);

        JsonNode journal = DifyTestbed.json(recovered.out());
        if (ROLLBACK_STEPS.contains(point)) {
            // The restore failed and its rollback was killed: both recoveries finish the rollback (exit 9: it failed).
            assertThat(recovered.code()).as(recovered.everything()).isEqualTo(9);
            assertThat(journal.get("state").asText()).isEqualTo("rolled_back");
            assertDifyAsBefore(before);
        } else if (recovery.equals("resume")) {
            assertThat(recovered.code()).as(recovered.everything()).isZero();
            assertThat(journal.get("state").asText()).isEqualTo("completed");
            if (point.equals(INSIDE_PG_RESTORE)) {
                assertThat(recovered.logs()).contains("dropping the unfinished database '" + copy("dify") + "'");
                assertThat(recovered.logs()).contains("left by an earlier attempt of this restore");
                try (Stream<Path> left = Files.list(restoreTemp)) {
                    assertThat(left).as("the killed attempt's decompressed dump is gone").isEmpty();
                }
            }
            assertThat(journal.get("smoke")).isNotEmpty().allSatisfy(r -> assertThat(r.get("ok").asBoolean()).as(r.toString()).isTrue());
            assertWritersOn(copy("dify"), copy("dify_plugin"));
            assertThat(tb.pg.comparableDump(copy("dify"))).isEqualTo(tb.backedUpDumps.get("dify"));
            try (Jedis restored = target.jedis(); Jedis live = source.jedis()) {
                assertThat(RedisContent.of(restored, 0, 1).differences(RedisContent.of(live, 0, 1))).isEmpty();
            }
            assertThat(TreeSnapshot.of(restoredStorage)).isEqualTo(storageBackedUp);
        } else {
            assertThat(recovered.code()).as(recovered.everything()).isZero();
            assertThat(journal.get("state").asText()).isEqualTo("rolled_back");
            assertDifyAsBefore(before);
        }
        assertThat(replicas(chart.api())).isEqualTo(2);
        for (String db : DifyTestbed.DATABASES) {
            assertThat(tb.pg.comparableDump(db)).as("live database %s untouched", db).isEqualTo(liveDumps.get(db));
        }
        assertThat(k8s().leases().withName("dify-dr-restore").get()).as("restore lock released").isNull();
    }

    private static String copy(String database) {
        return TargetNames.copyName(database, "restore", backupId);
    }

    private void assertWritersOn(String main, String plugin) {
        for (String[] w : new String[][] {{chart.api(), chart.apiContainer()}, {chart.worker(), chart.workerContainer()}, {chart.beat(), chart.beatContainer()}}) {
            awaitPods(w[0], replicas(w[0]));
            assertThat(databaseOf(w[0], w[1])).as(w[0]).isEqualTo(main);
        }
        awaitPods(chart.plugin(), 1);
        assertThat(databaseOf(chart.plugin(), chart.pluginContainer())).isEqualTo(plugin);
    }

    /** Runs the restore in another JVM until it is killed at {@code point}; returns the restore id. */
    private String killedAt(String point, Path config) throws Exception {
        Path log = tmp.resolve("killed-" + System.nanoTime() + ".log");
        boolean inside = point.equals(INSIDE_PG_RESTORE);
        if (point.equals(INSIDE_REWIRE)) {
            return killedInsideRewire(config, log);
        }
        Process p = spawnJava(log, KilledRestore.class.getName(), (inside ? slowPgRestore(config) : config).toString(), inside ? "-" : point, "redis,storage",
                ROLLBACK_STEPS.contains(point) ? "scale-up" : "-");
        if (inside) {
            String id = awaitRestoreId(p, log);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!tb.databases().contains(copy("dify")) || !holdsDump(restoreTemp)) {
                assertThat(System.nanoTime() - deadline).as("the copy appears; output:%n%s", Files.readString(log)).isNegative();
                sleep(50);
            }
            List<ProcessHandle> children = p.descendants().toList();
            p.destroyForcibly().waitFor();
            // SIGKILL leaves the children running; the stalled pg_restore must not wake up later
            children.forEach(ProcessHandle::destroyForcibly);
            return id;
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("killed in time; output:%n%s", Files.readString(log)).isTrue();
        assertThat(p.exitValue()).as("died by SIGKILL; output:%n%s", Files.readString(log)).isEqualTo(137);
        return awaitRestoreId(p, log);
    }

    /**
     * The API server kills the restore when the second value change reaches it, before storing it: one value is
     * changed, the others are not, and no Deployment has been restarted.
     */
    private String killedInsideRewire(Path config, Path log) throws Exception {
        java.util.concurrent.atomic.AtomicReference<Process> restore = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger changes = new java.util.concurrent.atomic.AtomicInteger();
        cluster.refuseWrites((method, path, type, body) -> {
            if (type.startsWith("application/json-patch+json") && body.contains("\"op\":\"test\"") && changes.incrementAndGet() == 2) {
                restore.get().destroyForcibly();
                return true;
            }
            return false;
        });
        Process p = spawnJava(log, KilledRestore.class.getName(), config.toString(), "-", "redis,storage");
        restore.set(p);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("killed in time; output:%n%s", Files.readString(log)).isTrue();
        cluster.refuseWrites(null);
        assertThat(changes.get()).as("output:%n%s", Files.readString(log)).isEqualTo(2);
        return awaitRestoreId(p, log);
    }

    private static String awaitRestoreId(Process p, Path log) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            for (String line : Files.readAllLines(log)) {
                if (line.startsWith("restore ")) {
                    return line.substring("restore ".length()).strip();
                }
            }
            assertThat(System.nanoTime() - deadline).as("restore id printed; output:%n%s", Files.readString(log)).isNegative();
            sleep(50);
        }
    }

    /** Whether the restore has decompressed a dump into {@code dir} (it then runs the stalled pg_restore on it). */
    private static boolean holdsDump(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".dump"));
        }
    }

    /** The same configuration with a pg_restore that stalls before doing its work, so that a kill lands inside it. */
    private static Path slowPgRestore(Path config) throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("matrix-slow-bin"));
        Path wrapper = bin.resolve("pg_restore");
        Files.writeString(wrapper, "#!/bin/sh\n[ \"$1\" = --version ] || sleep 60\nexec " + LocalPostgres.tool("pg_restore") + " \"$@\"\n");
        wrapper.toFile().setExecutable(true);
        Files.writeString(bin.resolve("pg_dump"), "#!/bin/sh\nexec " + LocalPostgres.tool("pg_dump") + " \"$@\"\n");
        bin.resolve("pg_dump").toFile().setExecutable(true);
        Path slow = Path.of(config.toString().replace(".yaml", "-slow.yaml"));
        String text = Files.readString(config);
        String withBin = text.replace("  databases: [dify, dify_plugin]\n", "  databases: [dify, dify_plugin]\n  binDir: " + bin + "\n");
        assertThat(withBin).isNotEqualTo(text);
        Files.writeString(slow, withBin);
        return slow;
    }
}
