package dev.difydr.repository;

import java.util.List;
import java.util.Map;

/**
 * What the Redis backup found. {@code format}: {@code rdb} (the server's snapshot) or {@code keys} (the logical
 * fallback, {@code fallbackReason} says why). {@code keys}: keys per database counted in the stored snapshot itself
 * (parsed while it streamed), not from INFO. {@code unsupported}: keys a restore cannot replay (module values), or null.
 */
public record RedisFacts(String host, int port, String version, String format, String fallbackReason, Integer rdbVersion,
                         Map<Integer, Long> keys, List<String> unsupported) implements dev.difydr.backup.ComponentFacts {
}
