package dev.difydr.repository;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.store.NoSuchObjectException;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.ObjectStore.ObjectInfo;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Backups of one deployment in an object store: what exists, which are complete, their manifests. */
public final class Repository implements AutoCloseable {
    private final ObjectStore store;
    private final RepositoryLayout layout;

    public Repository(ObjectStore store, String deployment) {
        this.store = store;
        this.layout = new RepositoryLayout(deployment);
    }

    public ObjectStore store() {
        return store;
    }

    public RepositoryLayout layout() {
        return layout;
    }

    @Override
    public void close() {
        store.close();
    }

    /** Writes the manifest: the last write of a backup, after which it counts as complete. */
    public void commit(Manifest manifest) {
        try {
            store.put(layout.manifest(new BackupId(manifest.id())), Json.MAPPER.writeValueAsBytes(manifest));
        } catch (IOException e) {
            throw new DrException(Failure.INTERNAL, "cannot serialise manifest of " + manifest.id(), e);
        }
    }

    public Manifest manifest(BackupId id) {
        byte[] bytes;
        try {
            bytes = store.read(layout.manifest(id));
        } catch (NoSuchObjectException e) {
            throw new DrException(Failure.VERIFY, "backup " + id + " has no manifest in " + store.describe()
                    + ": it does not exist or did not complete (see 'list --all')");
        }
        try {
            return Json.MAPPER.readValue(bytes, Manifest.class);
        } catch (IOException e) {
            throw new DrException(Failure.VERIFY, "manifest of backup " + id + " in " + store.describe() + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** Resolves {@code latest} or an id to a complete backup's manifest. */
    public Manifest resolve(String idOrLatest) {
        if ("latest".equals(idOrLatest)) {
            return list(false).stream().findFirst().map(e -> e.manifest().orElseThrow())
                    .orElseThrow(() -> new DrException(Failure.VERIFY, "no completed backup of deployment '" + layout.deployment()
                            + "' in " + store.describe()));
        }
        if (!BackupId.isValid(idOrLatest)) {
            throw new DrException(Failure.USAGE, "'" + idOrLatest + "' is neither 'latest' nor a backup id like 20261122T060000Z-k3m9qa");
        }
        return manifest(new BackupId(idOrLatest));
    }

    /** Backups newest first; with {@code includeIncomplete}, also runs that left objects but no manifest. */
    public List<Entry> list(boolean includeIncomplete) {
        Map<BackupId, List<ObjectInfo>> byBackup = new TreeMap<>(Comparator.reverseOrder());
        for (ObjectInfo o : store.list(layout.backupsPrefix())) {
            layout.backupOf(o.key()).ifPresent(id -> byBackup.computeIfAbsent(id, k -> new ArrayList<>()).add(o));
        }
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<BackupId, List<ObjectInfo>> e : byBackup.entrySet()) {
            boolean complete = e.getValue().stream().anyMatch(o -> layout.isManifest(o.key()));
            if (complete) {
                out.add(new Entry(e.getKey(), Optional.of(manifest(e.getKey())), e.getValue()));
            } else if (includeIncomplete) {
                out.add(new Entry(e.getKey(), Optional.empty(), e.getValue()));
            }
        }
        // Ids have one-second resolution: order by the recorded start so 'latest' is the newest even within a second.
        out.sort(Comparator.comparing(Entry::startedAt).thenComparing(Entry::id).reversed());
        return out;
    }

    /** A backup as found in the store: complete when it has a manifest. */
    public record Entry(BackupId id, Optional<Manifest> manifest, List<ObjectInfo> objects) {
        public String status() {
            return manifest.map(Manifest::status).orElse("incomplete");
        }

        public Instant startedAt() {
            return manifest.map(Manifest::startedAt).orElse(id.time());
        }

        public long storedBytes() {
            return objects.stream().mapToLong(ObjectInfo::size).sum();
        }
    }
}
