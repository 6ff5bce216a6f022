package dev.difydr.backup;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.RedisConfig;
import dev.difydr.repository.RedisFacts;
import dev.difydr.source.redis.KeyTooLargeException;
import dev.difydr.source.redis.RdbFormatException;
import dev.difydr.source.redis.RdbReader;
import dev.difydr.source.redis.RedisEndpoint;
import dev.difydr.source.redis.RedisLogicalSource;
import dev.difydr.source.redis.RedisReplicationSource;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.io.input.ProxyInputStream;
import org.apache.commons.io.input.TeeInputStream;
import org.apache.commons.io.output.NullOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * Redis as one artifact: the server's RDB snapshot through the replication handshake, or, when the server refuses it
 * (mode {@code auto}) or when asked (mode {@code logical}), the SCAN/DUMP keys stream. The RDB is parsed as it streams
 * so that the manifest counts the keys of the snapshot itself.
 */
final class RedisBackup implements BackupComponent {
    private static final Logger log = LoggerFactory.getLogger(RedisBackup.class);

    private final RedisConfig config;
    private final RedisEndpoint endpoint;
    private String version;

    RedisBackup(RedisConfig config) {
        this.config = config;
        this.endpoint = new RedisEndpoint(config);
    }

    @Override
    public String component() {
        return "redis";
    }

    @Override
    public boolean optional() {
        return config.optional();
    }

    @Override
    public String preflight() {
        try (Jedis jedis = endpoint.connect()) {
            version = RedisEndpoint.serverVersion(jedis);
        }
        return "Redis " + version + " at " + endpoint.where() + (config.tls() ? " (TLS)" : "") + " reachable; mode " + config.mode();
    }

    @Override
    public RedisFacts backup(BackupContext context) {
        String fallbackReason = null;
        if (!config.mode().equals(RedisConfig.LOGICAL)) {
            RedisReplicationSource.Transfer transfer;
            try {
                transfer = new RedisReplicationSource(endpoint).open();
            } catch (RedisReplicationSource.Refused refused) {
                if (config.mode().equals(RedisConfig.RDB)) {
                    throw new DrException(Failure.SOURCE, "Redis at " + endpoint.where() + " refuses the replication handshake ("
                            + refused.getMessage() + "); set redis.mode to auto or logical to back it up with SCAN/DUMP");
                }
                fallbackReason = "the server refuses the replication handshake: " + refused.getMessage();
                log.warn("Redis at {}: falling back to the logical SCAN/DUMP backup, not a point-in-time snapshot: {}",
                        endpoint.where(), fallbackReason);
                return logical(context, fallbackReason);
            }
            return rdb(context, transfer);
        }
        return logical(context, null);
    }

    private RedisFacts rdb(BackupContext context, RedisReplicationSource.Transfer transfer) {
        RdbReader.Summary[] summary = new RdbReader.Summary[1];
        List<String> unsupported = new ArrayList<>();
        try (transfer) {
            log.info("Redis at {}: receiving the RDB snapshot ({})", endpoint.where(), transfer.how());
            context.store("redis", "redis", context.layout().redisSnapshot(context.id(), "rdb"), plain -> {
                // A read failure is the server's (SOURCE); a write failure stays an IOException, the store's.
                InputStream fromServer = new ProxyInputStream(transfer.payload()) {
                    @Override
                    protected void handleIOException(IOException e) {
                        throw endpoint.failure("the RDB transfer failed", e);
                    }
                };
                InputStream tee = new TeeInputStream(fromServer, plain);
                try {
                    summary[0] = new RdbReader(tee, false).read(e -> { });
                } catch (RdbReader.UnreadableValueException | KeyTooLargeException e) {
                    // The bytes are still the server's own snapshot: store them whole; counting stops here.
                    unsupported.add(e.getMessage());
                } catch (RdbFormatException e) {
                    throw endpoint.failure("the RDB snapshot is not valid", e);
                }
                tee.transferTo(NullOutputStream.INSTANCE);
                if (!transfer.complete()) {
                    throw endpoint.failure("the RDB transfer ended early", new IOException("incomplete payload"));
                }
            }, transfer::close);
        }
        RdbReader.Summary s = summary[0];
        if (s != null) {
            s.unsupported().forEach(u -> unsupported.add(u.key() + " (db " + u.db() + ", " + u.type() + ")"));
        }
        return new RedisFacts(config.host(), config.port(), version, "rdb", null, s == null ? null : s.rdbVersion(),
                s == null ? null : s.keys(), unsupported.isEmpty() ? null : unsupported);
    }

    private RedisFacts logical(BackupContext context, String fallbackReason) {
        RedisLogicalSource.Result[] result = new RedisLogicalSource.Result[1];
        context.store("redis", "redis", context.layout().redisSnapshot(context.id(), "keys"),
                plain -> result[0] = new RedisLogicalSource(endpoint).writeTo(plain));
        if (result[0].vanished() > 0) {
            log.info("Redis at {}: {} keys expired or were deleted during the walk and are not in the backup",
                    endpoint.where(), result[0].vanished());
        }
        Map<Integer, Long> keys = result[0].keys();
        return new RedisFacts(config.host(), config.port(), version, "keys", fallbackReason, null, keys, null);
    }
}
