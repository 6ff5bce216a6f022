package dev.difydr.testsupport;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * What a Redis holds, key by key, in a form that survives a reload: the type and its content read with type-aware
 * commands (DUMP bytes do not: a hashtable's order changes), plus the PTTL. Two contents are equal when they hold
 * the same keys with the same type and content, and TTLs within a second of each other.
 */
public record RedisContent(Map<String, String> values, Map<String, Long> ttls) {
    private static final HexFormat HEX = HexFormat.of();

    public static RedisContent of(Jedis jedis, int... databases) {
        Map<String, String> values = new TreeMap<>();
        Map<String, Long> ttls = new TreeMap<>();
        for (int db : databases) {
            jedis.select(db);
            byte[] cursor = ScanParams.SCAN_POINTER_START_BINARY;
            do {
                ScanResult<byte[]> page = jedis.scan(cursor, new ScanParams().count(500));
                cursor = page.getCursorAsBytes();
                for (byte[] key : page.getResult()) {
                    String name = db + ":" + HEX.formatHex(key);
                    values.put(name, describe(jedis, key));
                    ttls.put(name, jedis.pttl(key));
                }
            } while (!java.util.Arrays.equals(cursor, ScanParams.SCAN_POINTER_START_BINARY));
        }
        jedis.select(0);
        return new RedisContent(values, ttls);
    }

    private static String describe(Jedis jedis, byte[] key) {
        String type = jedis.type(key);
        return type + " " + switch (type) {
            case "string" -> HEX.formatHex(jedis.get(key));
            case "list" -> hex(jedis.lrange(key, 0, -1));
            case "set" -> hex(jedis.smembers(key)).stream().sorted().toList().toString();
            case "zset" -> jedis.zrangeWithScores(key, 0, -1).stream()
                    .map(t -> HEX.formatHex(t.getBinaryElement()) + "=" + t.getScore()).toList().toString();
            case "hash" -> new TreeMap<>(hexMap(jedis.hgetAll(key))).toString();
            case "stream" -> {
                String k = new String(key, java.nio.charset.StandardCharsets.UTF_8);
                yield jedis.xrange(k, "-", "+").stream().map(e -> e.getID() + new TreeMap<>(e.getFields()).toString()).toList()
                        + " groups " + jedis.xinfoGroups(k).stream()
                        .map(g -> g.getName() + ":consumers=" + g.getConsumers() + ",pending=" + g.getPending()
                                + ",last=" + g.getLastDeliveredId())
                        .sorted().toList()
                        + " pending " + jedis.xinfoGroups(k).stream()
                        .flatMap(g -> jedis.xpending(k, g.getName(), redis.clients.jedis.params.XPendingParams.xPendingParams().count(1000)).stream()
                                .map(pe -> g.getName() + "/" + pe.getConsumerName() + "/" + pe.getID() + "/" + pe.getDeliveredTimes()))
                        .toList();
            }
            default -> "unsupported type";
        };
    }

    private static List<String> hex(java.util.Collection<byte[]> items) {
        return items.stream().map(HEX::formatHex).toList();
    }

    private static Map<String, String> hexMap(Map<byte[], byte[]> map) {
        Map<String, String> out = new TreeMap<>();
        map.forEach((k, v) -> out.put(HEX.formatHex(k), HEX.formatHex(v)));
        return out;
    }

    /** Every difference, one line each; empty when both hold the same. */
    public List<String> differences(RedisContent other) {
        List<String> out = new ArrayList<>();
        for (String key : values.keySet()) {
            if (!other.values.containsKey(key)) {
                out.add("missing " + key);
            } else if (!values.get(key).equals(other.values.get(key))) {
                out.add("differs " + key + ": " + abbreviate(values.get(key)) + " vs " + abbreviate(other.values.get(key)));
            } else {
                long a = ttls.get(key);
                long b = other.ttls.get(key);
                if ((a < 0) != (b < 0) || Math.abs(a - b) > 1000) {
                    out.add("ttl of " + key + ": " + a + " vs " + b);
                }
            }
        }
        for (String key : other.values.keySet()) {
            if (!values.containsKey(key)) {
                out.add("extra " + key);
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }
}
