package dev.difydr.config;

import java.util.List;

/** The whole configuration file. */
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
        RetentionConfig retention,
        MetricsConfig metrics,
        List<NotificationConfig> notifications,
        ScheduleConfig schedule,
        EncryptionConfig encryption) {

    public Config {
        deployment = deployment == null ? "dify" : deployment;
        compression = compression == null ? CompressionConfig.DEFAULT : compression;
        restore = restore == null ? RestoreConfig.DEFAULT : restore;
        drill = drill == null ? DrillConfig.DEFAULT : drill;
        storage = storage == null ? List.of() : List.copyOf(storage);
        metrics = metrics == null ? MetricsConfig.DEFAULT : metrics;
        notifications = notifications == null ? List.of() : List.copyOf(notifications);
        schedule = schedule == null ? ScheduleConfig.DEFAULT : schedule;
        retention = retention == null ? RetentionConfig.NONE : retention;
    }
}
