package dev.difydr.testsupport;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XReadGroupParams;

/**
 * Test data covering every Redis type in each of its encodings (small listpack/intset forms and large
 * quicklist/hashtable/skiplist forms), binary keys and values, LZF-compressible strings, streams with consumer
 * groups, pending and deleted entries, and keys with TTLs, spread over databases 0, 1 and 5.
 */
public final class RedisDataset {
    public static final int[] DATABASES = {0, 1, 5};

    private RedisDataset() {
    }

    public static void load(Jedis jedis) {
        for (int db : DATABASES) {
            jedis.select(db);
            load(jedis, "db" + db + ":");
        }
        jedis.select(0);
    }

    private static void load(Jedis jedis, String p) {
        Pipeline pipe = jedis.pipelined();
        pipe.set(p + "str:short", "hello");
        pipe.set(p + "str:int", "12345");
        pipe.set(p + "str:negint", "-70000");
        pipe.set(p + "str:long", "x".repeat(10) + "y".repeat(5000)); // LZF-compressible in the RDB
        pipe.set(p + "str:ttl", "expires later");
        pipe.pexpire(p + "str:ttl", 3_600_000);
        byte[] binKey = (p + "bin:\u0000\u00ff").getBytes(StandardCharsets.ISO_8859_1);
        byte[] binValue = new byte[256];
        for (int i = 0; i < binValue.length; i++) {
            binValue[i] = (byte) i;
        }
        pipe.set(binKey, binValue);
        pipe.set((p + "k".repeat(60)).getBytes(StandardCharsets.UTF_8), "compressible key".getBytes(StandardCharsets.UTF_8));
        pipe.rpush(p + "list:small", "a", "b", "c");
        for (int i = 0; i < 2000; i++) {
            pipe.rpush(p + "list:large", "element-" + i + "-" + "z".repeat(i % 70));
        }
        pipe.sadd(p + "set:ints", "1", "2", "3", "100000");
        pipe.sadd(p + "set:small", "alpha", "beta", "gamma");
        for (int i = 0; i < 1000; i++) {
            pipe.sadd(p + "set:large", "member-" + i);
        }
        pipe.zadd(p + "zset:small", Map.of("one", 1.0, "two", 2.5, "inf", Double.POSITIVE_INFINITY));
        Map<String, Double> scores = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            scores.put("z-" + i, i * 1.25);
        }
        pipe.zadd(p + "zset:large", scores);
        pipe.hset(p + "hash:small", Map.of("f1", "v1", "f2", "2"));
        Map<String, String> fields = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            fields.put("field-" + i, "value-" + i + "-" + "w".repeat(i % 100));
        }
        pipe.hset(p + "hash:large", fields);
        pipe.hset(p + "hash:ttl", Map.of("a", "b"));
        pipe.expire(p + "hash:ttl", 7200);
        pipe.sync();

        String stream = p + "stream";
        StreamEntryID deleted = null;
        for (int i = 0; i < 300; i++) {
            // fixed ids, so that two servers loaded with this data hold the same streams
            StreamEntryID id = jedis.xadd(stream, XAddParams.xAddParams().id(new StreamEntryID(1_700_000_000_000L + i / 3, i % 3)),
                    Map.of("n", Integer.toString(i), "payload", "p" + i));
            if (i == 10) {
                deleted = id;
            }
        }
        jedis.xdel(stream, deleted);
        jedis.xgroupCreate(stream, "workers", new StreamEntryID(0, 0), false);
        jedis.xgroupCreate(stream, "idle", StreamEntryID.XGROUP_LAST_ENTRY, false);
        jedis.xreadGroup("workers", "alice", XReadGroupParams.xReadGroupParams().count(5),
                Map.of(stream, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
        jedis.xreadGroup("workers", "bob", XReadGroupParams.xReadGroupParams().count(3),
                Map.of(stream, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
        jedis.xadd(p + "stream:empty", XAddParams.xAddParams().id(new StreamEntryID(5, 1)), Map.of("only", "one"));
    }

    /** The number of keys {@link #load} writes into each database. */
    public static final int KEYS_PER_DB = 19;
}
