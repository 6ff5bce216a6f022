package dev.difydr.config;

/**
 * The quarterly drill: where its scratch databases go ({@code target}; the {@code postgres} server when unset), what
 * they are called ({@code databases}, backed-up name to scratch name; derived from the drill id when unset — fixed
 * names let a standing drill Dify read them), who owns them, the optional drill Dify to smoke-check, and the
 * thresholds that fail the drill when missed. {@code redis} and {@code storage} are scratch targets: when set, the
 * drill also restores the backup's Redis snapshot and file storages there (a storage target matched by name) and
 * checks that every tenant's private key came back. {@code namespace} is a scratch namespace: when set, the drill
 * also re-creates the backup's ConfigMaps and Secrets there (those that do not exist; one that exists must hold the
 * backup's content) and deletes the ones it created at its cleanup.
 */
public record DrillConfig(
        RestoreConfig.PostgresTarget target,
        java.util.Map<String, String> databases,
        String databaseOwner,
        SmokeConfig smoke,
        Long maxRtoSeconds,
        Long maxRpoSeconds,
        RedisConfig redis,
        java.util.List<StorageConfig> storage,
        String namespace) {

    public static final DrillConfig DEFAULT = new DrillConfig(null, null, null, null, null, null, null, null, null);

    public DrillConfig {
        databases = databases == null ? java.util.Map.of() : java.util.Map.copyOf(databases);
        storage = storage == null ? java.util.List.of() : java.util.List.copyOf(storage);
    }
}
