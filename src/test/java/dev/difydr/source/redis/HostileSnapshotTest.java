package dev.difydr.source.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Snapshots whose length fields claim gigabytes in a few bytes: each is refused fast, with a message naming what
 * was being read, and without allocating anything near the claimed size. Keys that really are larger than a reader
 * may hold are refused by name.
 */
class HostileSnapshotTest {
    private static final String TWO_GIB = "80 80000000";
    private static final String FOUR_GIB_MINUS_ONE = "80 ffffffff";
    private static final String FOUR_GIB = "81 0000000100000000";
    /** Just under the old reader's cap on a key name: it allocated this much before reading a byte of it. */
    private static final String ALMOST_TWO_GIB = "80 7fffff00";
    private static final String KEY_K = "01 6b";
    private static final long ALLOWED_ALLOCATION = 1 << 20;

    private record Case(String name, String body, String expected) {
    }

    private static final List<Case> TRUNCATED = List.of(
            new Case("key name of 2 GiB", "00 " + TWO_GIB + " 6b6b6b", "where a length said 2147483648 bytes"),
            new Case("key name just under 2 GiB", "00 " + ALMOST_TWO_GIB + " 6b6b6b", "where a length said 2147483392 bytes"),
            new Case("key name of 4 GiB", "00 " + FOUR_GIB + " 6b6b6b", "where a length said 4294967296 bytes"),
            new Case("string value of 2 GiB", "00 " + KEY_K + " " + TWO_GIB + " 616263", "in the value of key 'k' in db 0, where a length said 2147483648"),
            new Case("list of 4 Gi elements", "01 " + KEY_K + " " + FOUR_GIB_MINUS_ONE + " 0161 0162", "in the value of key 'k' in db 0"),
            new Case("set of 4 Gi members", "02 " + KEY_K + " " + FOUR_GIB + " 0161", "in the value of key 'k' in db 0"),
            new Case("hash of 2 Gi fields", "04 " + KEY_K + " " + TWO_GIB + " 0161 0162", "in the value of key 'k' in db 0"),
            new Case("zset2 of 2 Gi members", "05 " + KEY_K + " " + TWO_GIB + " 0161", "in the value of key 'k' in db 0"),
            new Case("LZF key name, compressed 2 GiB", "00 c3 " + TWO_GIB + " " + FOUR_GIB_MINUS_ONE + " 00", "where a length said 2147483648 bytes"),
            new Case("LZF value, compressed 2 GiB", "00 " + KEY_K + " c3 " + TWO_GIB + " " + FOUR_GIB_MINUS_ONE + " 00",
                    "in the value of key 'k' in db 0, where a length said 2147483648"),
            new Case("ziplist of 2 GiB", "0a " + KEY_K + " " + TWO_GIB + " 0000", "in the value of key 'k' in db 0, where a length said 2147483648"),
            new Case("intset of 4 GiB", "0b " + KEY_K + " " + FOUR_GIB_MINUS_ONE + " 0000", "where a length said 4294967295"),
            new Case("hash listpack of 4 GiB", "10 " + KEY_K + " " + FOUR_GIB + " 0000", "where a length said 4294967296"),
            new Case("quicklist of 2 Gi nodes of 2 GiB", "12 " + KEY_K + " " + TWO_GIB + " 02 " + TWO_GIB + " 00",
                    "in the value of key 'k' in db 0, where a length said 2147483648"),
            new Case("module value string of 2 GiB", "07 " + KEY_K + " 05 05 " + TWO_GIB + " 00",
                    "in the value of key 'k' in db 0, where a length said 2147483648"),
            new Case("aux field of 2 GiB", "fa " + TWO_GIB + " 00", "where a length said 2147483648"));

    private static final List<Case> CORRUPT = List.of(
            new Case("LZF key name of 3 bytes claiming 2 GiB", "00 c3 03 " + TWO_GIB + " 616263",
                    "a key name in db 0 is an LZF string of 3 bytes that claims to expand to 2147483648 bytes"),
            new Case("LZF key name just under 2 GiB", "00 c3 03 " + ALMOST_TWO_GIB + " 616263", "which LZF cannot"),
            new Case("length beyond 2^63", "05 " + KEY_K + " 81 ffffffffffffffff", "a length of 18446744073709551615"),
            new Case("database number beyond 2^31", "fe " + FOUR_GIB, "database number 4294967296 is out of range"));

    @Test
    void lengthsClaimingGigabytesEndInATruncationErrorNamingWhatWasRead() {
        for (Case c : TRUNCATED) {
            for (boolean capture : new boolean[] {true, false}) {
                RdbFormatException e = refused(c, capture);
                assertThat(e).as(c.name()).isNotInstanceOf(KeyTooLargeException.class);
                assertThat(e.getMessage()).as(c.name()).contains("the RDB stream ends early").contains("truncated").contains(c.expected());
            }
        }
    }

    @Test
    void impossibleLengthsAreCorrupt() {
        for (Case c : CORRUPT) {
            for (boolean capture : new boolean[] {true, false}) {
                assertThat(refused(c, capture).getMessage()).as(c.name()).contains(c.expected()).contains("corrupt");
            }
        }
    }

    @Test
    void aValueLargerThanTheLimitIsRefusedByItsKeysName() throws IOException {
        byte[] rdb = rdb("00 03 626967 " + "41 f4" + " 78".repeat(500) + " ff 0000000000000000");
        KeyTooLargeException e = catchThrowableOfType(KeyTooLargeException.class,
                () -> new RdbReader(new ByteArrayInputStream(rdb), true, new KeySizeLimit(256)).read(x -> { }));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).startsWith("the value of key 'big' in db 0 holds more than 256 B")
                .contains("heap").contains("DIFY_DR_JAVA_OPTS").contains("-Xmx");
        // a backup walks values without holding them: the same key is no problem there
        RdbReader.Summary s = new RdbReader(new ByteArrayInputStream(rdb), false, new KeySizeLimit(256)).read(x -> { });
        assertThat(s.keys()).containsEntry(0, 1L);
        List<RdbReader.Entry> entries = new ArrayList<>();
        new RdbReader(new ByteArrayInputStream(rdb), true, new KeySizeLimit(1024)).read(entries::add);
        assertThat(entries).singleElement().satisfies(x -> assertThat(x.value()).hasSize(1 + 2 + 500));
    }

    @Test
    void aKeyNameLargerThanTheLimitIsRefused() {
        byte[] rdb = rdb("00 41 f4" + " 6b".repeat(500) + " 0176 ff 0000000000000000");
        for (boolean capture : new boolean[] {true, false}) {
            KeyTooLargeException e = catchThrowableOfType(KeyTooLargeException.class,
                    () -> new RdbReader(new ByteArrayInputStream(rdb), capture, new KeySizeLimit(256)).read(x -> { }));
            assertThat(e).isNotNull();
            assertThat(e.getMessage()).startsWith("a key name in db 0 holds more than 256 B (its length says 500 bytes)");
        }
    }

    @Test
    void atRedisBulkLimitTheMessageSaysSoInsteadOfBlamingTheHeap() {
        String message = new KeySizeLimit(KeySizeLimit.REDIS_BULK_MAX).exceeded("the value of key 'k' in db 0", -1).getMessage();
        assertThat(message).contains("512.0 MiB").contains("proto-max-bulk-len").doesNotContain("DIFY_DR_JAVA_OPTS");
    }

    @Test
    void theLimitIsAShareOfTheHeapAndNeverAboveRedisBulkLimit() {
        long limit = KeySizeLimit.forThisHeap().bytes();
        assertThat(limit).isPositive().isLessThanOrEqualTo(KeySizeLimit.REDIS_BULK_MAX)
                .isLessThanOrEqualTo(Runtime.getRuntime().maxMemory() / KeySizeLimit.HEAP_SHARE);
    }

    @Test
    void keysStreamLengthsClaimingGigabytesAreRefusedFast() {
        record KeysCase(String name, byte[] stream, String expected) {
        }
        List<KeysCase> cases = List.of(
                new KeysCase("key name of 2 GiB", keys(d -> {
                    d.writeByte('K');
                    d.writeInt(Integer.MAX_VALUE);
                    d.write("abc".getBytes(StandardCharsets.US_ASCII));
                }), "ends early, in a key name in db 0, whose length says 2147483647 bytes"),
                new KeysCase("payload of 2 GiB", keys(d -> {
                    d.writeByte('S');
                    d.writeInt(3);
                    d.writeByte('K');
                    d.writeInt(1);
                    d.writeByte('k');
                    d.writeLong(-1);
                    d.writeInt(Integer.MAX_VALUE - 8);
                    d.write(new byte[10]);
                }), "ends early, in the value of key 'k' in db 3, whose length says 2147483639 bytes"),
                new KeysCase("payload of 100 MiB, within the limit", keys(d -> {
                    d.writeByte('K');
                    d.writeInt(1);
                    d.writeByte('k');
                    d.writeLong(-1);
                    d.writeInt(100 << 20);
                    d.write(new byte[10]);
                }), "ends early, in the value of key 'k' in db 0, whose length says 104857600 bytes"),
                new KeysCase("negative key length", keys(d -> {
                    d.writeByte('K');
                    d.writeInt(-1);
                }), "negative length"));
        for (KeysCase c : cases) {
            RdbFormatException e = fastAndSmall(c.name(), () -> RedisKeysFormat.read(new ByteArrayInputStream(c.stream()), k -> { }));
            assertThat(e.getMessage()).as(c.name()).contains(c.expected());
        }
    }

    @Test
    void keysStreamValueLargerThanTheLimitIsRefusedByItsKeysName() throws IOException {
        byte[] stream = keys(d -> {
            d.writeByte('K');
            d.writeInt(3);
            d.write("big".getBytes(StandardCharsets.US_ASCII));
            d.writeLong(-1);
            d.writeInt(1000);
            d.write(new byte[1000]);
            d.writeByte('E');
            d.writeLong(1);
        });
        KeyTooLargeException e = catchThrowableOfType(KeyTooLargeException.class,
                () -> RedisKeysFormat.read(new ByteArrayInputStream(stream), k -> { }, new KeySizeLimit(256)));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).startsWith("the value of key 'big' in db 0 holds more than 256 B (its length says 1000 bytes)");
        List<RedisKeysFormat.Key> read = new ArrayList<>();
        assertThat(RedisKeysFormat.read(new ByteArrayInputStream(stream), read::add, new KeySizeLimit(1000))).isEqualTo(1);
        assertThat(read).singleElement().satisfies(k -> assertThat(k.payload()).hasSize(1000));
    }

    private static RdbFormatException refused(Case c, boolean capture) {
        byte[] rdb = rdb(c.body());
        assertThat(rdb.length).as(c.name()).isLessThan(40);
        return fastAndSmall(c.name() + (capture ? ", values captured" : ""),
                () -> new RdbReader(new ByteArrayInputStream(rdb), capture).read(x -> { }));
    }

    interface Read {
        void run() throws IOException;
    }

    /** The read fails with a format error within a second, having allocated less than {@link #ALLOWED_ALLOCATION}. */
    private static RdbFormatException fastAndSmall(String name, Read read) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        RdbFormatException e = catchThrowableOfType(RdbFormatException.class, read::run);
        long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
        assertThat(e).as(name + ": refused").isNotNull();
        assertThat(System.nanoTime() - start).as(name + ": nanoseconds").isLessThan(1_000_000_000L);
        assertThat(allocated).as(name + ": bytes allocated").isLessThan(ALLOWED_ALLOCATION);
        return e;
    }

    /** {@code REDIS0011} followed by the hex bytes (spaces ignored). */
    private static byte[] rdb(String hex) {
        byte[] header = "REDIS0011".getBytes(StandardCharsets.US_ASCII);
        byte[] body = HexFormat.of().parseHex(hex.replace(" ", ""));
        byte[] out = Arrays.copyOf(header, header.length + body.length);
        System.arraycopy(body, 0, out, header.length, body.length);
        return out;
    }

    interface KeysBody {
        void write(DataOutputStream d) throws IOException;
    }

    private static byte[] keys(KeysBody body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DataOutputStream d = new DataOutputStream(out)) {
            d.write(RedisKeysFormat.MAGIC.getBytes(StandardCharsets.US_ASCII));
            body.write(d);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
