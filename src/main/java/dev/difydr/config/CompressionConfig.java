package dev.difydr.config;

/**
 * How artifacts are compressed: zstd {@code level} (1–19, default 3) and {@code workers} (0 = one per core).
 */
public record CompressionConfig(Integer level, Integer workers) {
    public static final CompressionConfig DEFAULT = new CompressionConfig(null, null);

    public CompressionConfig {
        level = level == null ? 3 : level;
        workers = workers == null ? 0 : workers;
    }
}
