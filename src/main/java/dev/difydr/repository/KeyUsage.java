package dev.difydr.repository;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Which keys the backups of a repository were encrypted under, as their manifests record it: per key id the number of
 * backups with an artifact under it, the backups without any encrypted artifact, and those whose manifest is damaged.
 */
public record KeyUsage(Map<Long, Integer> backupsByKey, int unencrypted, int damaged) {

    public KeyUsage {
        backupsByKey = Map.copyOf(backupsByKey);
    }

    /** Counts over {@code entries} (complete backups, as {@link Repository#list} gives them). */
    public static KeyUsage of(List<Repository.Entry> entries) {
        Map<Long, Integer> byKey = new TreeMap<>();
        int unencrypted = 0;
        int damaged = 0;
        for (Repository.Entry e : entries) {
            if (e.manifest().isEmpty()) {
                damaged++;
                continue;
            }
            List<Long> keys = e.manifest().get().artifacts().stream().filter(Artifact::encrypted).map(Artifact::keyId)
                    .filter(Objects::nonNull).distinct().toList();
            if (keys.isEmpty()) {
                unencrypted++;
            }
            keys.forEach(k -> byKey.merge(k, 1, Integer::sum));
        }
        return new KeyUsage(byKey, unencrypted, damaged);
    }

    public int backups(long keyId) {
        return backupsByKey.getOrDefault(keyId, 0);
    }
}
