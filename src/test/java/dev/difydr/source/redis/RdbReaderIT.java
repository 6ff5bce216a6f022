package dev.difydr.source.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.testsupport.Commands;
import dev.difydr.testsupport.RedisDataset;
import dev.difydr.testsupport.RedisServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** The reader against RDB files the real server writes: redis-cli's, and those of our own handshake (diskless and from disk). */
class RdbReaderIT {
    private static RedisServer server;
    private static RedisServer diskServer;
    private static long loadedAt;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        server = RedisServer.options().noPassword().start();
        diskServer = RedisServer.options().diskSync().start();
        for (RedisServer s : List.of(server, diskServer)) {
            try (Jedis j = s.jedis()) {
                RedisDataset.load(j);
            }
        }
        loadedAt = System.currentTimeMillis();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (diskServer != null) {
            diskServer.close();
        }
    }

    private static byte[] redisCliRdb() throws IOException {
        Path file = tmp.resolve("cli.rdb");
        Commands.run(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(server.port()), "--rdb", file.toString()), Map.of(), tmp);
        return Files.readAllBytes(file);
    }

    private static byte[] handshakeRdb(RedisServer s) throws IOException {
        try (RedisReplicationSource.Transfer t = new RedisReplicationSource(new RedisEndpoint(s.config())).open()) {
            byte[] rdb = t.payload().readAllBytes();
            assertThat(t.complete()).isTrue();
            return rdb;
        }
    }

    @Test
    void everyKeyIsFoundWithItsTypeExpiryAndTheBytesDumpWouldGive() throws IOException {
        byte[] rdb = redisCliRdb();
        List<RdbReader.Entry> entries = new ArrayList<>();
        RdbReader reader = new RdbReader(new ByteArrayInputStream(rdb), true);
        RdbReader.Summary summary = reader.read(entries::add);

        assertThat(summary.rdbVersion()).isEqualTo(10); // Redis 7.0
        assertThat(summary.checksumVerified()).isTrue();
        assertThat(summary.bytes()).isEqualTo(rdb.length);
        assertThat(summary.unsupported()).isEmpty();
        assertThat(summary.keys()).containsExactlyInAnyOrderEntriesOf(Map.of(0, 19L, 1, 19L, 5, 19L));
        assertThat(entries).hasSize(3 * RedisDataset.KEYS_PER_DB);

        try (Jedis j = server.jedis()) {
            for (RdbReader.Entry e : entries) {
                j.select(e.db());
                String type = j.type(e.key());
                assertThat(family(e.type())).as("type of %s", e.keyText()).isEqualTo(type);
                long pttl = j.pttl(e.key());
                if (pttl < 0) {
                    assertThat(e.expireAtMs()).as("expiry of %s", e.keyText()).isEqualTo(-1);
                } else {
                    assertThat(e.expireAtMs()).as("expiry of %s", e.keyText()).isBetween(loadedAt, System.currentTimeMillis() + pttl + 1000);
                }
                // Set and hash tables may iterate in another order between two serialisations; the rest must match DUMP.
                if (!Set.of(2, 4).contains(e.type())) {
                    assertThat(HexFormat.of().formatHex(RedisRestore.payload(e.value(), summary.rdbVersion())))
                            .as("payload of %s", e.keyText()).isEqualTo(HexFormat.of().formatHex(j.dump(e.key())));
                }
            }
        }
        List<Integer> types = entries.stream().map(RdbReader.Entry::type).distinct().sorted().toList();
        // string, set (hashtable), zset2 (skiplist), hash (hashtable), set intset, list quicklist2, stream2 (7.0), hash/zset listpack
        assertThat(types).contains(0, 2, 4, 5, 11, 16, 17, 18, 19);
    }

    @Test
    void handshakeStreamsTheSameKeysDisklessAndFromDisk() throws IOException {
        for (RedisServer s : List.of(server, diskServer)) {
            byte[] rdb = handshakeRdb(s);
            RdbReader.Summary summary = new RdbReader(new ByteArrayInputStream(rdb), false).read(e -> { });
            assertThat(summary.checksumVerified()).isTrue();
            assertThat(summary.bytes()).isEqualTo(rdb.length);
            assertThat(summary.keys()).containsExactlyInAnyOrderEntriesOf(Map.of(0, 19L, 1, 19L, 5, 19L));
        }
    }

    @Test
    void truncatedOrCorruptRdbIsRefused() throws IOException {
        byte[] rdb = redisCliRdb();
        for (int cut : new int[] {5, rdb.length / 2, rdb.length - 1}) {
            InputStream in = new ByteArrayInputStream(Arrays.copyOf(rdb, cut));
            assertThatThrownBy(() -> new RdbReader(in, false).read(e -> { }))
                    .as("cut at %d of %d", cut, rdb.length).isInstanceOf(RdbFormatException.class).hasMessageContaining("truncated");
        }
        byte[] corrupt = rdb.clone();
        int at = indexOf(corrupt, "hello".getBytes());
        assertThat(at).isPositive();
        corrupt[at] ^= 0x20;
        assertThatThrownBy(() -> new RdbReader(new ByteArrayInputStream(corrupt), false).read(e -> { }))
                .isInstanceOf(RdbFormatException.class).hasMessageContaining("checksum does not match");
        assertThatThrownBy(() -> new RdbReader(new ByteArrayInputStream("NOTREDIS0010".getBytes()), false).read(e -> { }))
                .isInstanceOf(RdbFormatException.class).hasMessageContaining("not an RDB stream");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String family(int rdbType) {
        return switch (rdbType) {
            case 0 -> "string";
            case 1, 10, 14, 18 -> "list";
            case 2, 11, 20 -> "set";
            case 3, 5, 12, 17 -> "zset";
            case 4, 9, 13, 16 -> "hash";
            case 15, 19, 21 -> "stream";
            default -> "type " + rdbType;
        };
    }

}
