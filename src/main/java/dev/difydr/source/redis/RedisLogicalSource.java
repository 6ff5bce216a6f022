package dev.difydr.source.redis;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Every key of every database as {@code DUMP} payload and {@code PTTL}, found with {@code SCAN} and fetched in one
 * pipeline per SCAN batch, written in {@link RedisKeysFormat}. Not a point-in-time snapshot: keys written during the
 * walk may or may not be in it; keys that vanish between SCAN and DUMP (they expired or were deleted) are counted.
 */
public final class RedisLogicalSource {
    private static final Pattern KEYSPACE_DB = Pattern.compile("^db(\\d+):keys=(\\d+)", Pattern.MULTILINE);
    private static final int BATCH = 1000;

    /** Keys written per database, and keys SCAN returned that were gone by the time of DUMP. */
    public record Result(Map<Integer, Long> keys, long vanished) {
    }

    private final RedisEndpoint endpoint;

    public RedisLogicalSource(RedisEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    /** The databases that hold keys and their key counts, from {@code INFO keyspace}. */
    public static Map<Integer, Long> keyspace(Jedis jedis) {
        Map<Integer, Long> out = new TreeMap<>();
        Matcher m = KEYSPACE_DB.matcher(jedis.info("keyspace"));
        while (m.find()) {
            out.put(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)));
        }
        return out;
    }

    public Result writeTo(OutputStream plain) throws IOException {
        try (Jedis jedis = endpoint.connect()) {
            RedisKeysFormat.Writer writer = new RedisKeysFormat.Writer(plain);
            Map<Integer, Long> written = new TreeMap<>();
            long vanished = 0;
            ScanParams params = new ScanParams().count(BATCH);
            for (int db : keyspace(jedis).keySet()) {
                jedis.select(db);
                writer.select(db);
                long before = writer.keys();
                byte[] cursor = ScanParams.SCAN_POINTER_START_BINARY;
                do {
                    ScanResult<byte[]> page = jedis.scan(cursor, params);
                    cursor = page.getCursorAsBytes();
                    List<byte[]> keys = page.getResult();
                    List<Response<byte[]>> dumps = new ArrayList<>(keys.size());
                    List<Response<Long>> ttls = new ArrayList<>(keys.size());
                    Pipeline p = jedis.pipelined();
                    for (byte[] key : keys) {
                        dumps.add(p.dump(key));
                        ttls.add(p.pttl(key));
                    }
                    p.sync();
                    for (int i = 0; i < keys.size(); i++) {
                        byte[] payload = dumps.get(i).get();
                        long pttl = ttls.get(i).get();
                        if (payload == null || pttl == -2) {
                            vanished++;
                            continue;
                        }
                        writer.key(keys.get(i), pttl, payload);
                    }
                } while (!java.util.Arrays.equals(cursor, ScanParams.SCAN_POINTER_START_BINARY));
                written.put(db, writer.keys() - before);
            }
            writer.finish();
            return new Result(written, vanished);
        } catch (redis.clients.jedis.exceptions.JedisException e) {
            throw endpoint.failure("reading the keys failed", e);
        }
    }
}
