package dev.difydr.backup;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The one list of component kinds: turns the configuration into the components of a backup set. */
public final class BackupComponents {
    public static final List<String> KINDS = List.of("postgres", "redis", "storage");

    private BackupComponents() {
    }

    /** The components of a backup set; fails when there are none. */
    public static List<BackupComponent> from(Config config, Set<String> only) {
        List<BackupComponent> out = configured(config, only);
        if (out.isEmpty()) {
            throw new DrException(Failure.CONFIG, only.isEmpty()
                    ? "nothing to back up: the configuration has no postgres, redis or storage section"
                    : "nothing to back up: --only " + String.join(",", only) + " names no configured component");
        }
        return out;
    }

    /** Every configured component of the kinds in {@code only} (all kinds when empty), in backup order. */
    public static List<BackupComponent> configured(Config config, Set<String> only) {
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
        return out;
    }

    private static boolean wanted(String kind, Set<String> only) {
        return only.isEmpty() || only.contains(kind);
    }
}
