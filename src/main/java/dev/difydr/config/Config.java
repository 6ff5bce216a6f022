package dev.difydr.config;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The whole configuration file. Sections that this version reads are typed; {@code redis}, {@code storage} and
 * {@code retention} are accepted as written so that one file can serve every version, and {@code config check} says
 * which of them this version does not act on yet.
 */
public record Config(
        String deployment,
        RepositoryConfig repository,
        PostgresConfig postgres,
        CompressionConfig compression,
        JsonNode redis,
        JsonNode storage,
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
    }
}
