package dev.difydr.backup;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Config;
import dev.difydr.config.EncryptionConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The one list of component kinds: turns the configuration into the components of a backup set. */
public final class BackupComponents {
    public static final List<String> KINDS = List.of("postgres", "redis", "storage", KubernetesBackup.KIND);

    private BackupComponents() {
    }

    /** {@link #from(Config, Set, boolean)}, encrypted when the configuration names a keyset. */
    public static List<BackupComponent> from(Config config, Set<String> only) {
        return from(config, only, encrypted(config));
    }

    /**
     * The components of a backup set; fails when there are none. {@code encrypted}: whether the repository encrypts
     * what is stored, without which Dify's configuration is not backed up ({@link KubernetesBackup}).
     */
    public static List<BackupComponent> from(Config config, Set<String> only, boolean encrypted) {
        List<BackupComponent> out = configured(config, only, encrypted);
        if (out.isEmpty()) {
            throw new DrException(Failure.CONFIG, only.isEmpty()
                    ? "nothing to back up: the configuration has no postgres, redis, storage or kubernetes section"
                    : "nothing to back up: --only " + String.join(",", only) + " names no configured component");
        }
        return out;
    }

    /** {@link #configured(Config, Set, boolean)}, encrypted when the configuration names a keyset. */
    public static List<BackupComponent> configured(Config config, Set<String> only) {
        return configured(config, only, encrypted(config));
    }

    /**
     * Every configured component of the kinds in {@code only} (all kinds when empty), in backup order. Dify's
     * configuration comes with a {@code kubernetes} section: optional when included by default, required when
     * {@code only} names it.
     */
    public static List<BackupComponent> configured(Config config, Set<String> only, boolean encrypted) {
        for (String kind : only) {
            if (!KINDS.contains(kind)) {
                throw new DrException(Failure.USAGE, "--only: unknown component '" + kind + "'; use " + String.join(",", KINDS));
            }
        }
        List<BackupComponent> out = new ArrayList<>();
        if (config.postgres() != null && wanted("postgres", only)) {
            out.add(config.postgres().isPhysical() ? new PostgresPhysicalBackup(config.postgres(), config.kubernetes())
                    : new PostgresLogicalBackup(config.postgres(), config.kubernetes()));
        }
        if (config.redis() != null && wanted("redis", only)) {
            out.add(new RedisBackup(config.redis()));
        }
        if (wanted("storage", only)) {
            for (var storage : config.storage()) {
                out.add(new StorageBackup(storage, config.kubernetes()));
            }
        }
        if (config.kubernetes() != null && wanted(KubernetesBackup.KIND, only)) {
            out.add(new KubernetesBackup(config.kubernetes(), encrypted, only.contains(KubernetesBackup.KIND)));
        }
        return out;
    }

    private static boolean encrypted(Config config) {
        return EncryptionConfig.enabled(config.encryption());
    }

    private static boolean wanted(String kind, Set<String> only) {
        return only.isEmpty() || only.contains(kind);
    }
}
