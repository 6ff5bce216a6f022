package dev.difydr.config;

/**
 * Dify's Redis. {@code user} is an ACL user (Redis 6+; without it {@code AUTH password} is sent). {@code tls} turns
 * on TLS, verified against the JVM's trust store or {@code caFile}. {@code mode}: {@code auto} (the replication
 * handshake, falling back to the logical SCAN/DUMP stream when the server refuses {@code SYNC}/{@code PSYNC}),
 * {@code rdb} (the handshake only) or {@code logical}. {@code optional}: a failing Redis backup is recorded as
 * missing instead of failing the backup set.
 */
public record RedisConfig(
        String host,
        Integer port,
        String user,
        Secret password,
        Boolean tls,
        String caFile,
        String mode,
        Boolean optional,
        Integer timeoutSeconds) {

    public static final String AUTO = "auto";
    public static final String RDB = "rdb";
    public static final String LOGICAL = "logical";

    public RedisConfig {
        port = port == null ? 6379 : port;
        password = password == null ? Secret.of("") : password;
        tls = tls != null && tls;
        mode = mode == null ? AUTO : mode;
        optional = optional != null && optional;
        timeoutSeconds = timeoutSeconds == null ? 60 : timeoutSeconds;
    }
}
