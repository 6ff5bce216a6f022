package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.RedisConfig;
import dev.difydr.config.StorageConfig;
import dev.difydr.pipeline.Progress;
import dev.difydr.pipeline.VerifiedPlainInput;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis and file-storage part shared by restore ({@code --with redis,storage}) and drill: where each of the
 * backup's snapshots and storages goes, restoring them there (never replacing a key or overwriting a file unless
 * asked), and the privkeys check that every tenant's private key came back.
 */
public final class ComponentSteps {
    private static final Logger log = LoggerFactory.getLogger(ComponentSteps.class);
    public static final String REDIS = "redis";
    public static final String STORAGE = "storage";
    public static final Set<String> KINDS = Set.of(REDIS, STORAGE);

    private final Repository repository;
    private final Manifest manifest;
    private final Targets targets;
    private final Function<String, Progress> progress;
    private final Runnable save;

    /**
     * Where components go: {@code redis} the Redis to restore into (null: none configured), {@code storage} the
     * storage targets by name, {@code storageSources} the configured storages (a storage restores to its own
     * location when no target names it, when {@code sourceIsDefault}), and what a missing target is called in messages.
     */
    public record Targets(RedisConfig redis, List<StorageConfig> storage, List<StorageConfig> storageSources, boolean sourceIsDefault,
                          String redisKey, String storageKey) {

        StorageConfig storage(String name) {
            for (StorageConfig s : storage) {
                if (name.equals(s.name())) {
                    return s;
                }
            }
            if (sourceIsDefault) {
                for (StorageConfig s : storageSources) {
                    if (name.equals(s.name())) {
                        return s;
                    }
                }
            }
            return null;
        }
    }

    public ComponentSteps(Repository repository, Manifest manifest, Targets targets, Function<String, Progress> progress, Runnable save) {
        this.repository = repository;
        this.manifest = manifest;
        this.targets = targets;
        this.progress = progress;
        this.save = save;
    }

    /** The components of the backup to restore, with their targets; throws naming what is missing. */
    public List<Journal.ComponentTarget> plan(Set<String> with) {
        List<Journal.ComponentTarget> out = new ArrayList<>();
        for (String kind : with) {
            if (!KINDS.contains(kind)) {
                throw new DrException(Failure.USAGE, "--with: unknown component '" + kind + "'; use redis, storage or both (redis,storage)");
            }
        }
        if (with.contains(REDIS)) {
            Artifact a = artifacts(REDIS).stream().findFirst().orElseThrow(() -> new DrException(Failure.VERIFY,
                    "backup " + manifest.id() + " holds no Redis snapshot" + missingWhy(REDIS) + "; leave redis out of --with"));
            if (targets.redis() == null) {
                throw new DrException(Failure.CONFIG, "nowhere to restore Redis to: set " + targets.redisKey());
            }
            out.add(new Journal.ComponentTarget(REDIS, a.name(), a.path(), a.plainBytes(), describe(targets.redis())));
        }
        if (with.contains(STORAGE)) {
            List<Artifact> storages = artifacts(STORAGE);
            if (storages.isEmpty()) {
                throw new DrException(Failure.VERIFY, "backup " + manifest.id() + " holds no file storage" + missingWhy(STORAGE)
                        + "; leave storage out of --with");
            }
            for (Artifact a : storages) {
                StorageConfig target = targets.storage(a.name());
                if (target == null) {
                    throw new DrException(Failure.CONFIG, "nowhere to restore storage '" + a.name() + "' to: add {name: " + a.name()
                            + ", path|pod|bucket: ...} to " + targets.storageKey());
                }
                out.add(new Journal.ComponentTarget(STORAGE, a.name(), a.path(), a.plainBytes(), describe(target)));
            }
        }
        return out;
    }

    private List<Artifact> artifacts(String kind) {
        return manifest.artifacts().stream().filter(a -> kind.equals(a.kind())).toList();
    }

    private String missingWhy(String kind) {
        return manifest.skipped() == null ? "" : manifest.skipped().stream().filter(s -> kind.equals(s.component()))
                .map(s -> " (" + s.name() + ": " + s.reason() + ")").findFirst().orElse("");
    }

    static String describe(RedisConfig r) {
        return "redis " + r.host() + ":" + r.port() + (r.tls() ? " (TLS)" : "");
    }

    static String describe(StorageConfig s) {
        if (s.path() != null) {
            return "directory " + s.path();
        }
        if (s.pod() != null) {
            return "pod " + s.pod().selector() + (s.pod().namespace() == null ? "" : " in " + s.pod().namespace()) + ":" + s.pod().path();
        }
        return s.bucket() == null ? "nowhere" : s.bucket().url();
    }

    /** Opens an artifact's plain bytes, checked against the manifest as they are read. */
    InputStream open(Journal.ComponentTarget t, Progress p) {
        Artifact artifact = manifest.artifacts().stream().filter(a -> a.path().equals(t.artifact)).findFirst()
                .orElseThrow(() -> new DrException(Failure.VERIFY, "manifest of " + manifest.id() + " has no artifact " + t.artifact));
        try {
            return VerifiedPlainInput.open(repository.store().open(t.artifact), artifact, p);
        } catch (IOException e) {
            throw new DrException(Failure.STORE, "cannot read " + t.artifact + ": " + e.getMessage(), e);
        }
    }
}
