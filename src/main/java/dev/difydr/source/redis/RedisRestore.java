package dev.difydr.source.redis;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.RedisConfig;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.RestoreParams;

/**
 * Replays a Redis snapshot ({@code rdb}: the server's RDB file; {@code keys}: the logical fallback's stream) into any
 * Redis with pipelined {@code RESTORE}. An RDB value becomes a DUMP payload (its raw bytes, the RDB version, CRC-64)
 * restored with its absolute expiry ({@code ABSTTL}); keys already expired are skipped. An existing key is kept and
 * reported unless {@code replace} is set. Module values cannot be restored and are listed by name.
 */
public final class RedisRestore {
    private static final int BATCH_KEYS = 1000;
    private static final long BATCH_BYTES = 16L << 20;
    private static final int KEPT_NAMES = 20;

    /**
     * What the restore did: keys restored per database, keys skipped because they had expired, keys that already
     * existed and were kept (their number and the first names), and keys not restored because of their type.
     */
    public record Result(Map<Integer, Long> restored, long expiredSkipped, long kept, List<String> keptNames,
                         List<RdbReader.Unsupported> unsupported) {
        public long restoredTotal() {
            return restored.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private final RedisEndpoint target;

    public RedisRestore(RedisConfig target) {
        this.target = new RedisEndpoint(target);
    }

    /**
     * Restores {@code plain} (the decompressed artifact) whose format is {@code "rdb"} or {@code "keys"}; the format is
     * also recognised from the first bytes and a mismatch is refused. A truncated or corrupt stream fails with
     * {@link Failure#VERIFY}, even when some keys were already restored; a key larger than this process may hold
     * ({@link KeySizeLimit}) with {@link Failure#CONFIG}; the target's refusals with {@link Failure#SOURCE}. At most one
     * key's value and a batch of up to 16 MiB of payloads are held at once.
     */
    public Result restore(InputStream plain, String format, boolean replace) {
        BufferedInputStream in = new BufferedInputStream(plain, 64 * 1024);
        String detected = detect(in);
        if (!detected.equals(format)) {
            throw new DrException(Failure.VERIFY, "the Redis snapshot was recorded as '" + format + "' but its content is "
                    + (detected.isEmpty() ? "neither an RDB file nor a keys stream" : "'" + detected + "'"));
        }
        try (Jedis jedis = target.connect()) {
            String targetVersion = RedisEndpoint.serverVersion(jedis);
            Batch batch = new Batch(jedis, replace, targetVersion);
            try {
                if (format.equals("rdb")) {
                    RdbReader reader = new RdbReader(in, true);
                    long now = System.currentTimeMillis();
                    RdbReader.Summary summary = reader.read(e -> {
                        if (e.expireAtMs() >= 0 && e.expireAtMs() <= now) {
                            batch.expired++;
                            return;
                        }
                        byte[] payload = payload(e.value(), reader.version());
                        batch.add(e.db(), e.key(), e.expireAtMs() < 0 ? 0 : e.expireAtMs(), e.expireAtMs() >= 0, payload, reader.version());
                    });
                    batch.flush();
                    return batch.result(summary.unsupported());
                }
                RedisKeysFormat.read(in, k -> batch.add(k.db(), k.key(), Math.max(0, k.pttl()), false, k.payload(), -1));
                batch.flush();
                return batch.result(List.of());
            } catch (KeyTooLargeException e) {
                // the snapshot may be sound: what is wrong is this process's room for one key
                throw new DrException(Failure.CONFIG, "the Redis snapshot cannot be restored: " + e.getMessage()
                        + " (" + batch.total() + " keys were restored before this; restore again with REPLACE once the cause is fixed)", e);
            } catch (RdbFormatException e) {
                throw new DrException(Failure.VERIFY, "the Redis snapshot cannot be restored: " + e.getMessage()
                        + " (" + batch.total() + " keys were restored before this; restore again with REPLACE once the cause is fixed)", e);
            } catch (IOException e) {
                throw new DrException(Failure.STORE, "reading the Redis snapshot failed: " + e.getMessage(), e);
            }
        } catch (JedisException e) {
            throw target.failure("restoring failed", e);
        }
    }

    /** "rdb", "keys", or "" for neither, from the first bytes; the stream is reset to its start. */
    static String detect(BufferedInputStream in) {
        try {
            in.mark(64);
            byte[] head = in.readNBytes(RedisKeysFormat.MAGIC.length());
            in.reset();
            String s = new String(head, StandardCharsets.ISO_8859_1);
            if (s.startsWith("REDIS")) {
                return "rdb";
            }
            return s.equals(RedisKeysFormat.MAGIC) ? "keys" : "";
        } catch (IOException e) {
            throw new DrException(Failure.STORE, "reading the Redis snapshot failed: " + e.getMessage(), e);
        }
    }

    /** A DUMP payload: the value, the 2-byte RDB version and the CRC-64 of both, little endian. */
    static byte[] payload(byte[] value, int rdbVersion) {
        byte[] out = new byte[value.length + 10];
        System.arraycopy(value, 0, out, 0, value.length);
        out[value.length] = (byte) rdbVersion;
        out[value.length + 1] = (byte) (rdbVersion >>> 8);
        long crc = Crc64.update(0, out, 0, value.length + 2);
        for (int i = 0; i < 8; i++) {
            out[value.length + 2 + i] = (byte) (crc >>> (8 * i));
        }
        return out;
    }

    /** Pending RESTOREs of one database, sent as one pipeline when the batch is full or the database changes. */
    private static final class Batch {
        private final Jedis jedis;
        private final boolean replace;
        private final String targetVersion;
        private final List<byte[]> keys = new ArrayList<>();
        private final List<Response<String>> replies = new ArrayList<>();
        private final Map<Integer, Long> restored = new TreeMap<>();
        private final List<String> keptNames = new ArrayList<>();
        private Pipeline pipeline;
        private int db = -1;
        private int rdbVersion;
        private long bytes;
        private long kept;
        private long expired;

        Batch(Jedis jedis, boolean replace, String targetVersion) {
            this.jedis = jedis;
            this.replace = replace;
            this.targetVersion = targetVersion;
        }

        void add(int db, byte[] key, long ttl, boolean absolute, byte[] payload, int rdbVersion) {
            if (db != this.db) {
                flush();
                try {
                    jedis.select(db);
                } catch (JedisDataException e) {
                    throw new DrException(Failure.SOURCE, "the target Redis has no database " + db + " (" + e.getMessage()
                            + "); raise its 'databases' setting", e);
                }
                this.db = db;
            }
            if (pipeline == null) {
                pipeline = jedis.pipelined();
            }
            RestoreParams params = new RestoreParams();
            if (replace) {
                params.replace();
            }
            if (absolute) {
                params.absTtl();
            }
            this.rdbVersion = rdbVersion;
            keys.add(key);
            replies.add(pipeline.restore(key, ttl, payload, params));
            bytes += payload.length;
            if (keys.size() >= BATCH_KEYS || bytes >= BATCH_BYTES) {
                flush();
            }
        }

        void flush() {
            if (pipeline == null) {
                return;
            }
            pipeline.sync();
            pipeline = null;
            long ok = 0;
            for (int i = 0; i < keys.size(); i++) {
                try {
                    replies.get(i).get();
                    ok++;
                } catch (JedisDataException e) {
                    String message = String.valueOf(e.getMessage());
                    String key = new String(keys.get(i), StandardCharsets.UTF_8);
                    if (message.startsWith("BUSYKEY")) {
                        kept++;
                        if (keptNames.size() < KEPT_NAMES) {
                            keptNames.add(key);
                        }
                    } else if (message.contains("payload version or checksum")) {
                        throw new DrException(Failure.SOURCE, "the target Redis " + targetVersion + " refuses the value of key '" + key
                                + "' in db " + db + (rdbVersion > 0 ? " (written by RDB version " + rdbVersion + ")" : "")
                                + ": it is older than the Redis the backup was taken from; restore into that Redis version or newer", e);
                    } else {
                        throw new DrException(Failure.SOURCE, "the target Redis refused key '" + key + "' in db " + db + ": " + message, e);
                    }
                }
            }
            restored.merge(db, ok, Long::sum);
            keys.clear();
            replies.clear();
            bytes = 0;
        }

        long total() {
            return restored.values().stream().mapToLong(Long::longValue).sum();
        }

        Result result(List<RdbReader.Unsupported> unsupported) {
            return new Result(java.util.Collections.unmodifiableMap(new TreeMap<>(restored)), expired, kept, List.copyOf(keptNames), List.copyOf(unsupported));
        }
    }
}
