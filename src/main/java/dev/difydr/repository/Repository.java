package dev.difydr.repository;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.difydr.crypto.Keyring;
import dev.difydr.crypto.SealedJson;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.store.NoSuchObjectException;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.ObjectStore.ObjectInfo;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backups of one deployment in an object store: what exists, which are complete, their manifests.
 *
 * <p>Backups are ordered by their id, whose time part is the start time to the second, never by what a manifest says
 * about itself: an edited or damaged manifest cannot move a backup ahead of newer ones. Within one second the
 * recorded start decides, trusted only inside that second; without it (no manifest, or one whose start lies outside its
 * id's second) the random suffix decides, which is arbitrary but stable. A manifest that cannot be read, parsed or does
 * not belong to its key is listed as damaged, with the reason, and the listing goes on.
 */
public final class Repository implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Repository.class);
    /** Manifests read at once by {@link #list}: a bucket answers each in tens of milliseconds, a thousand in a row is slow. */
    private static final int READERS = 8;

    private final ObjectStore store;
    private final RepositoryLayout layout;
    private final Keyring keyring;

    /** A repository read and written without encryption: artifacts in the clear, manifests not sealed nor checked. */
    public Repository(ObjectStore store, String deployment) {
        this(store, deployment, null);
    }

    /**
     * With a {@code keyring}, new artifacts are encrypted and new manifests sealed, and a manifest that is not sealed by
     * this keyring for this deployment and backup counts as damaged; without one, seals are neither made nor checked.
     */
    public Repository(ObjectStore store, String deployment, Keyring keyring) {
        this.store = store;
        this.layout = new RepositoryLayout(deployment);
        this.keyring = keyring;
    }

    /** The keys of this repository, or null when it is used without encryption. */
    public Keyring keyring() {
        return keyring;
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
            store.put(layout.manifest(new BackupId(manifest.id())), Json.MAPPER.writeValueAsBytes(sealed(Json.MAPPER.valueToTree(manifest),
                    manifestContext(manifest.id()))));
        } catch (IOException e) {
            throw new DrException(Failure.INTERNAL, "cannot serialise manifest of " + manifest.id(), e);
        }
    }

    /**
     * The manifest of a backup. A missing manifest and a damaged one are VERIFY failures naming the backup; a store
     * that cannot be read is the store's failure.
     */
    public Manifest manifest(BackupId id) {
        byte[] bytes;
        try {
            bytes = store.read(layout.manifest(id));
        } catch (NoSuchObjectException e) {
            throw new DrException(Failure.VERIFY, "backup " + id + " has no manifest in " + store.describe()
                    + ": it does not exist or did not complete (see 'list --all')");
        }
        Parsed parsed = parse(id, bytes, true);
        if (parsed.damage() != null) {
            throw new DrException(Failure.VERIFY, "backup " + id + " in " + store.describe() + " is damaged: " + parsed.damage()
                    + "; it cannot be shown, verified, drilled or restored. 'list' shows the other backups");
        }
        return parsed.manifest();
    }

    /**
     * The manifest of a backup that carries no seal (one written before encryption was configured), read without the
     * seal check, for its owner to verify and seal ({@code keys adopt}); empty when it is sealed. Damaged otherwise: a
     * VERIFY failure.
     */
    public Optional<Manifest> unsealed(BackupId id) {
        byte[] bytes = store.read(layout.manifest(id));
        try {
            JsonNode tree = Json.MAPPER.readTree(bytes);
            if (tree != null && tree.has(SealedJson.FIELD)) {
                return Optional.empty();
            }
        } catch (IOException e) {
            // reported by parse below
        }
        Parsed parsed = parse(id, bytes, false);
        if (parsed.damage() != null) {
            throw new DrException(Failure.VERIFY, "backup " + id + " is damaged: " + parsed.damage());
        }
        return Optional.of(parsed.manifest());
    }

    /**
     * Resolves {@code latest} or an id to a complete backup's manifest. {@code latest} is the newest completed,
     * undamaged backup that holds Dify's databases: a newer one of Redis or files alone (an hourly Redis backup) is
     * passed over, so that a restore, a drill or a verify of {@code latest} is never of part of Dify. Where no backup
     * holds the databases, it is the newest completed, undamaged backup.
     */
    public Manifest resolve(String idOrLatest) {
        if ("latest".equals(idOrLatest)) {
            return latest();
        }
        if (!BackupId.isValid(idOrLatest)) {
            throw new DrException(Failure.USAGE, "'" + idOrLatest + "' is neither 'latest' nor a backup id like 20261122T060000Z-k3m9qa");
        }
        return manifest(new BackupId(idOrLatest));
    }

    /** The component that makes a backup one of Dify's databases, which {@code latest} looks for. */
    static final String DATABASES = "postgres";

    private Manifest latest() {
        List<Entry> passed = new ArrayList<>();
        List<Manifest> partial = new ArrayList<>();
        for (Entry e : list(false)) {
            if (!e.usable()) {
                passed.add(e);
                continue;
            }
            Manifest m = e.manifest().orElseThrow();
            if (!m.components().contains(DATABASES)) {
                partial.add(m);
                continue;
            }
            for (Entry skipped : passed) {
                log.warn("'latest' is {}, not the newer backup {}: {}", e.id(), skipped.id(), skipped.whyUnusable());
            }
            if (!partial.isEmpty()) {
                log.info("'latest' is {}, the newest backup of Dify's databases; {} newer backups hold only {} (name one by its id to use it)",
                        e.id(), partial.size(), String.join(", ", partial.get(0).components()));
            }
            return m;
        }
        if (!partial.isEmpty()) {
            return partial.get(0);
        }
        throw new DrException(Failure.VERIFY, "no completed backup of deployment '" + layout.deployment() + "' in " + store.describe()
                + (passed.isEmpty() ? "" : " (" + passed.size() + " damaged or not completed: see 'list')"));
    }

    /**
     * Backups newest first (see the class comment); damaged ones included, with the reason; with
     * {@code includeIncomplete}, also runs that left objects but no manifest.
     */
    public List<Entry> list(boolean includeIncomplete) {
        Map<BackupId, List<ObjectInfo>> byBackup = new TreeMap<>();
        for (ObjectInfo o : store.list(layout.backupsPrefix())) {
            layout.backupOf(o.key()).ifPresent(id -> byBackup.computeIfAbsent(id, k -> new ArrayList<>()).add(o));
        }
        List<Map.Entry<BackupId, List<ObjectInfo>>> complete = new ArrayList<>();
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<BackupId, List<ObjectInfo>> e : byBackup.entrySet()) {
            if (e.getValue().stream().anyMatch(o -> layout.isManifest(o.key()))) {
                complete.add(e);
            } else if (includeIncomplete) {
                out.add(new Entry(e.getKey(), Optional.empty(), e.getValue(), null, null));
            }
        }
        out.addAll(concurrently(complete, e -> entry(e.getKey(), e.getValue())));
        out.sort(Comparator.comparing((Entry e) -> e.id().time()).thenComparing(Entry::startedAt).thenComparing(Entry::id).reversed());
        return out;
    }

    /**
     * The last verify verdict of each backup that has one. A record that cannot be read or parsed counts as none, with a
     * warning: it only ever adds a reason to keep a backup.
     */
    public Map<BackupId, VerifyRecord> verifications(List<Entry> entries) {
        List<Entry> recorded = entries.stream().filter(e -> e.objects().stream().anyMatch(o -> layout.isVerifyRecord(o.key()))).toList();
        List<Optional<VerifyRecord>> records = concurrently(recorded, e -> verification(e.id()));
        Map<BackupId, VerifyRecord> out = new TreeMap<>();
        for (int i = 0; i < recorded.size(); i++) {
            BackupId id = recorded.get(i).id();
            records.get(i).ifPresent(r -> out.put(id, r));
        }
        return out;
    }

    /** The last verify verdict of a backup, if there is a readable one. */
    public Optional<VerifyRecord> verification(BackupId id) {
        try {
            JsonNode tree = Json.MAPPER.readTree(store.read(layout.verifyRecord(id)));
            String forged = tree == null || !tree.isObject() ? null : sealProblem(tree, verifyRecordContext(id.value()), "it");
            if (forged != null) {
                log.warn("the verify record of backup {} counts as not verified: {}", id, forged);
                return Optional.empty();
            }
            return Optional.ofNullable(Json.MAPPER.treeToValue(tree, VerifyRecord.class));
        } catch (NoSuchObjectException e) {
            return Optional.empty();
        } catch (IOException | DrException e) {
            log.warn("the verify record of backup {} cannot be read ({}); it counts as not verified", id, e.getMessage());
            return Optional.empty();
        }
    }

    /** Stores the verdict of a verify of a backup, replacing the previous one. */
    public void recordVerification(BackupId id, VerifyRecord record) {
        try {
            store.put(layout.verifyRecord(id), Json.MAPPER.writeValueAsBytes(sealed(Json.MAPPER.valueToTree(record), verifyRecordContext(id.value()))));
        } catch (IOException e) {
            throw new DrException(Failure.INTERNAL, "cannot serialise the verify record of " + id, e);
        }
    }

    /**
     * Deletes backups and the leftovers of runs that never completed, in the order that keeps the repository honest
     * if it stops half-way: first the manifest of every backup to remove (from then on none is listed as complete),
     * then their other objects, then the incomplete runs' objects. A stop at any point leaves only incomplete runs,
     * which a later prune collects.
     */
    public void remove(List<Entry> backups, List<Entry> incomplete) {
        store.delete(backups.stream().map(e -> layout.manifest(e.id())).toList());
        store.delete(backups.stream().flatMap(e -> e.objects().stream()).map(ObjectInfo::key)
                .filter(k -> !layout.isManifest(k)).toList());
        store.delete(incomplete.stream().flatMap(e -> e.objects().stream()).map(ObjectInfo::key).toList());
    }

    /** Uploads of this deployment that were started and never committed nor aborted (a crashed run's). */
    public List<ObjectStore.PendingUpload> pendingUploads() {
        return store.pendingUploads(layout.deploymentPrefix());
    }

    public void abort(ObjectStore.PendingUpload upload) {
        store.abort(upload);
    }

    /** {@code document} sealed in {@code context} when this repository has a keyring; as it is otherwise. */
    public ObjectNode sealed(ObjectNode document, String context) {
        return keyring == null ? document : SealedJson.seal(document, keyring, context);
    }

    /**
     * Why {@code document} is not authentic in {@code context} (named {@code what} in the message), or null when it is,
     * or when this repository has no keyring to check it with.
     */
    public String sealProblem(JsonNode document, String context, String what) {
        return keyring == null ? null : SealedJson.problem(document, keyring, context, what);
    }

    /** What a manifest's seal binds it to: this deployment and its backup id. */
    private String manifestContext(String backupId) {
        return "dify-dr manifest\0" + layout.deployment() + "\0" + backupId;
    }

    /** What a verify record's seal binds it to: this deployment and its backup id. */
    private String verifyRecordContext(String backupId) {
        return "dify-dr verify record\0" + layout.deployment() + "\0" + backupId;
    }

    /** What a restore journal's seal binds it to: this deployment and the restore's id. */
    public String journalContext(String restoreId) {
        return "dify-dr restore journal\0" + layout.deployment() + "\0" + restoreId;
    }

    /** Applies {@code work} to every item on a small pool, results in the items' order; the first failure is thrown. */
    private static <T, R> List<R> concurrently(List<T> items, Function<T, R> work) {
        if (items.size() < 2) {
            return items.stream().map(work).toList();
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(READERS, items.size()), r -> {
            Thread t = new Thread(r, "repository-read");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<R>> futures = items.stream().map(i -> pool.submit(() -> work.apply(i))).toList();
            List<R> out = new ArrayList<>(items.size());
            for (Future<R> f : futures) {
                out.add(f.get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DrException(Failure.INTERNAL, "interrupted while reading the repository", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new DrException(Failure.INTERNAL, "reading the repository failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private Entry entry(BackupId id, List<ObjectInfo> objects) {
        Parsed parsed;
        try {
            parsed = parse(id, store.read(layout.manifest(id)), true);
        } catch (DrException e) {
            // A read failure of one manifest must not hide every other backup.
            parsed = new Parsed(null, "its manifest cannot be read: " + e.getMessage());
        }
        if (parsed.damage() != null) {
            return new Entry(id, Optional.empty(), objects, parsed.damage(), null);
        }
        Manifest m = parsed.manifest();
        String note = startAgrees(id, m.startedAt()) ? null : "the manifest says it started at " + m.startedAt()
                + ", outside the second its id names; ordered and aged by the id";
        return new Entry(id, Optional.of(m), objects, null, note);
    }

    /** The id's time is the start truncated to the second, so an honest manifest's start lies within that second. */
    private static boolean startAgrees(BackupId id, Instant startedAt) {
        return !startedAt.isBefore(id.time()) && startedAt.isBefore(id.time().plus(Duration.ofSeconds(1)));
    }

    /** A manifest, or why it cannot be used as one ({@code damage}). */
    private record Parsed(Manifest manifest, String damage) {
    }

    private Parsed parse(BackupId id, byte[] bytes, boolean checkSeal) {
        Manifest m;
        try {
            JsonNode tree = Json.MAPPER.readTree(bytes);
            if (checkSeal && tree != null && tree.isObject()) {
                String forged = sealProblem(tree, manifestContext(id.value()), "its manifest");
                if (forged != null) {
                    return new Parsed(null, forged + (tree.has(SealedJson.FIELD) ? "" : "; if it is a backup of yours from before"
                            + " encryption was configured, 'dify-dr keys adopt " + id + "' verifies its data and seals it"));
                }
            }
            m = tree == null || tree.isMissingNode() ? null : Json.MAPPER.treeToValue(tree, Manifest.class);
        } catch (JsonProcessingException e) {
            return new Parsed(null, "its manifest is not a valid manifest: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (IOException e) {
            return new Parsed(null, "its manifest cannot be parsed: " + e.getMessage());
        }
        if (m == null) {
            return new Parsed(null, "its manifest is empty (null)");
        }
        List<String> missing = new ArrayList<>();
        if (m.id() == null) missing.add("id");
        if (m.status() == null) missing.add("status");
        if (m.startedAt() == null) missing.add("startedAt");
        if (m.artifacts() == null || m.artifacts().contains(null)) missing.add("artifacts");
        if (!missing.isEmpty()) {
            return new Parsed(null, "its manifest lacks " + String.join(", ", missing));
        }
        if (!m.id().equals(id.value())) {
            return new Parsed(null, "its manifest names backup " + m.id() + " but is stored under " + id);
        }
        return new Parsed(m, null);
    }

    /**
     * A backup as found in the store: complete when it has a manifest; {@code damage} says why a manifest that exists
     * cannot be used (then {@code manifest} is empty); {@code note} flags a usable manifest that disagrees with its id.
     */
    public record Entry(BackupId id, Optional<Manifest> manifest, List<ObjectInfo> objects, String damage, String note) {
        public static final String DAMAGED = "damaged";
        public static final String INCOMPLETE = "incomplete";

        public String status() {
            return damage != null ? DAMAGED : manifest.map(Manifest::status).orElse(INCOMPLETE);
        }

        /** The recorded start when it agrees with the id, else the id's time. */
        public Instant startedAt() {
            return manifest.map(Manifest::startedAt).filter(t -> startAgrees(id, t)).orElse(id.time());
        }

        public long storedBytes() {
            return objects.stream().mapToLong(ObjectInfo::size).sum();
        }

        /** Whether {@code latest} may choose it: a readable manifest of a completed backup. */
        public boolean usable() {
            return damage == null && manifest.isPresent() && Manifest.COMPLETED.equals(manifest.get().status());
        }

        String whyUnusable() {
            if (damage != null) {
                return "damaged: " + damage;
            }
            return manifest.isEmpty() ? "it has no manifest" : "its status is '" + status() + "', not completed";
        }
    }
}
