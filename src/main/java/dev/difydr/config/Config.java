package dev.difydr.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The whole configuration file. Sections that this version reads are typed; {@code retention} is accepted as
 * written so that one file can serve every version, and {@code config check} says this version does not act on it.
 */
public record Config(
        String deployment,
        RepositoryConfig repository,
        PostgresConfig postgres,
        CompressionConfig compression,
        RedisConfig redis,
        List<StorageConfig> storage,
        KubernetesConfig kubernetes,
        SmokeConfig smoke,
        RestoreConfig restore,
        DrillConfig drill,
        JsonNode retention) {

    public Config {
        deployment = deployment == null ? "dify" : deployment;
        compression = compression == null ? CompressionConfig.DEFAULT : compression;
        restore = restore == null ? RestoreConfig.DEFAULT : restore;
        drill = drill == null ? DrillConfig.DEFAULT : drill;
        storage = storage == null ? List.of() : List.copyOf(storage);
    }
}
