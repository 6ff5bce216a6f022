package dev.difydr.source.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.RedisConfig;
import dev.difydr.testsupport.Commands;
import dev.difydr.testsupport.RedisServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * A Redis restore in a child JVM with the launcher's heap options ({@code -Xmx160m -XX:+ExitOnOutOfMemoryError}):
 * a hostile snapshot of a few bytes, and a value too large for that heap, end with dify-dr's own exit code and
 * message, never with the JVM killed by an OutOfMemoryError (which exits with 3, the code of a configuration error:
 * the message tells them apart); a large value within the limit is restored.
 */
class RedisRestoreBoundedHeapIT {
    private static final List<String> LAUNCHER_HEAP = List.of("-Xms32m", "-Xmx160m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError");
    private static RedisServer source;
    private static RedisServer target;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        source = RedisServer.options().noPassword().start();
        target = RedisServer.options().noPassword().start();
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
        }
        if (target != null) {
            target.close();
        }
    }

    @BeforeEach
    void empty() {
        try (Jedis s = source.jedis(); Jedis t = target.jedis()) {
            s.flushAll();
            t.flushAll();
        }
    }

    /** What the child JVM did: its exit code and everything it printed. */
    private record ChildRun(int code, String output) {
    }

    @Test
    void aFewBytesClaimingGigabytesFailAsACorruptSnapshot() throws Exception {
        // each allocated its claimed size up front before: a key name of almost 2 GiB, LZF strings of almost 2 GiB
        for (String body : List.of("00 80 7fffff00 6b6b6b6b6b6b6b6b6b6b", "00 c3 80 7fffff00 80 7fffff00 6b6b6b6b",
                "00 c3 03 80 7fffff00 6b6b6b 0000000000")) {
            byte[] rdb = "REDIS0011".getBytes(StandardCharsets.US_ASCII);
            Path file = tmp.resolve("hostile.rdb");
            Files.write(file, concat(rdb, HexFormat.of().parseHex(body.replace(" ", ""))));
            assertThat(Files.size(file)).isLessThanOrEqualTo(25);

            ChildRun run = restoreInChild(file);

            assertThat(run.output()).as(body).doesNotContain("java.lang.OutOfMemoryError");
            assertThat(run.code()).as(run.output()).isEqualTo(Failure.VERIFY.exitCode());
            assertThat(run.output()).contains("error: the Redis snapshot cannot be restored: ").contains("corrupt");
        }
    }

    @Test
    void aValueWithinTheLimitIsRestoredAndOneBeyondItIsRefusedByName() throws Exception {
        // the launcher's heap allows about 19 MiB per key (an eighth of what the JVM reports as its maximum)
        byte[] withinLimit = random(12 << 20);
        byte[] beyondLimit = random(24 << 20);
        try (Jedis s = source.jedis()) {
            s.set("small".getBytes(StandardCharsets.UTF_8), "before".getBytes(StandardCharsets.UTF_8));
            s.set("large".getBytes(StandardCharsets.UTF_8), withinLimit);
        }
        ChildRun ok = restoreInChild(snapshot("within.rdb"));
        assertThat(ok.code()).as(ok.output()).isZero();
        try (Jedis t = target.jedis()) {
            assertThat(t.get("large".getBytes(StandardCharsets.UTF_8))).isEqualTo(withinLimit);
            t.flushAll();
        }

        try (Jedis s = source.jedis()) {
            s.set("huge".getBytes(StandardCharsets.UTF_8), beyondLimit);
        }
        ChildRun refused = restoreInChild(snapshot("beyond.rdb"));
        assertThat(refused.output()).doesNotContain("java.lang.OutOfMemoryError");
        assertThat(refused.code()).as(refused.output()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(refused.output()).contains("error: the Redis snapshot cannot be restored: the value of key 'huge' in db 0 holds more than")
                .contains("DIFY_DR_JAVA_OPTS").contains("-Xmx");
    }

    private static byte[] random(int size) {
        byte[] out = new byte[size];
        new Random(size).nextBytes(out);
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static Path snapshot(String name) {
        Path file = tmp.resolve(name);
        Commands.run(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(source.port()), "--rdb", file.toString()), Map.of(), tmp);
        return file;
    }

    private static ChildRun restoreInChild(Path rdb) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(LAUNCHER_HEAP);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName(), rdb.toString(),
                Integer.toString(target.port())));
        Path log = tmp.resolve("child.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish: " + Files.readString(log));
        }
        return new ChildRun(p.exitValue(), Files.readString(log));
    }

    /** Restores one RDB file into the Redis on 127.0.0.1:{@code port} and exits as dify-dr's Main does. */
    public static final class Child {
        private Child() {
        }

        public static void main(String[] args) throws IOException {
            RedisConfig config = new RedisConfig("127.0.0.1", Integer.parseInt(args[1]), null, null, null, null, null, null, 10);
            try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
                new RedisRestore(config).restore(in, "rdb", false);
            } catch (DrException e) {
                System.err.println("error: " + DrException.describe(e));
                System.exit(e.failure().exitCode());
            }
            System.exit(0);
        }
    }
}
