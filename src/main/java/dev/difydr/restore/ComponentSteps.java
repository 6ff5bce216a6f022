package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.RedisConfig;
import dev.difydr.config.StorageConfig;
import dev.difydr.pipeline.Progress;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.pipeline.VerifiedPlainInput;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.config.PostgresConfig;
import dev.difydr.pipeline.Bytes;
import dev.difydr.repository.RedisFacts;
import dev.difydr.source.postgres.PostgresConnector;
import dev.difydr.source.redis.RedisEndpoint;
import dev.difydr.source.redis.RedisLogicalSource;
import dev.difydr.source.redis.RedisRestore;
import dev.difydr.source.storage.PrivkeysCheck;
import dev.difydr.source.storage.StorageRestore;
import dev.difydr.source.storage.StorageTarget;
import dev.difydr.source.storage.TarExtractor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import redis.clients.jedis.Jedis;
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
    /** Dify's ConfigMaps and Secrets: planned and restored by {@link ConfigSteps}, named here with the other kinds of {@code --with}. */
    public static final String CONFIG = "config";
    public static final Set<String> KINDS = Set.of(REDIS, STORAGE, CONFIG);

    private final Repository repository;
    private final Manifest manifest;
    private final Targets targets;
    private final Function<String, Progress> progress;
    private final Runnable save;
    private final KubernetesConfig kubernetes;

    /** A restored database, for the privkeys check: its tenants must all have their key in the restored storage. */
    public record Database(PostgresConfig server, String name) {
    }

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

    /** {@code kubernetes} (may be null) gives the namespace of a pod target that names none. */
    public ComponentSteps(Repository repository, Manifest manifest, Targets targets, Function<String, Progress> progress, Runnable save,
                          KubernetesConfig kubernetes) {
        this.repository = repository;
        this.manifest = manifest;
        this.targets = targets;
        this.progress = progress;
        this.save = save;
        this.kubernetes = kubernetes;
    }

    public Targets targets() {
        return targets;
    }

    /** The Redis and storage components of the backup to restore, with their targets; throws naming what is missing. */
    public List<Journal.ComponentTarget> plan(Set<String> with) {
        List<Journal.ComponentTarget> out = new ArrayList<>();
        for (String kind : with) {
            if (!KINDS.contains(kind)) {
                throw new DrException(Failure.USAGE, "--with: unknown component '" + kind + "'; use redis, storage, config or several (redis,storage,config)");
            }
        }
        if (with.contains(REDIS)) {
            Artifact a = artifacts(REDIS).stream().findFirst().orElseThrow(() -> new DrException(Failure.VERIFY,
                    "backup " + manifest.id() + " holds no Redis snapshot" + missingWhy(REDIS) + "; " + withoutIt(REDIS, targets.redisKey())));
            if (targets.redis() == null) {
                throw new DrException(Failure.CONFIG, "nowhere to restore Redis to: set " + targets.redisKey());
            }
            out.add(new Journal.ComponentTarget(REDIS, a.name(), a.path(), a.plainBytes(), describe(targets.redis())));
        }
        if (with.contains(STORAGE)) {
            List<Artifact> storages = artifacts(STORAGE);
            if (storages.isEmpty()) {
                throw new DrException(Failure.VERIFY, "backup " + manifest.id() + " holds no file storage" + missingWhy(STORAGE)
                        + "; " + withoutIt(STORAGE, targets.storageKey()));
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

    /** Proves every target can be reached and written before anything changes; says what an existing target holds. */
    public void preflight(List<Journal.ComponentTarget> components, boolean redisReplace, List<String> warnings) {
        for (Journal.ComponentTarget c : components) {
            if (c.kind.equals(REDIS)) {
                try (Jedis jedis = new RedisEndpoint(targets.redis()).connect()) {
                    long keys = RedisLogicalSource.keyspace(jedis).values().stream().mapToLong(Long::longValue).sum();
                    if (keys > 0) {
                        warnings.add(describe(targets.redis()) + " holds " + keys + " keys: "
                                + (redisReplace ? "those the backup also has are replaced (--redis-replace)"
                                        : "those the backup also has are kept as they are and listed (--redis-replace replaces them)"));
                    }
                }
            } else if (c.kind.equals(STORAGE)) {
                try (StorageTarget target = storageTarget(c)) {
                    target.preflight();
                }
            }
        }
    }

    /**
     * The drill's version of {@link #preflight}: a scratch target must be empty, so that what is there afterwards is
     * exactly what the backup restored, and so that emptying it afterwards loses nothing. Directories only for storage.
     */
    public void preflightScratch(List<Journal.ComponentTarget> components) {
        for (Journal.ComponentTarget c : components) {
            if (c.kind.equals(REDIS)) {
                try (Jedis jedis = new RedisEndpoint(targets.redis()).connect()) {
                    Map<Integer, Long> keys = RedisLogicalSource.keyspace(jedis);
                    if (!keys.isEmpty()) {
                        throw new DrException(Failure.CONFIG, "drill.redis " + describe(targets.redis()) + " is not empty (" + keys
                                + " keys per database): a drill restores into a scratch Redis only; empty it or point drill.redis elsewhere");
                    }
                }
            } else if (c.kind.equals(STORAGE)) {
                Path dir = scratchDirectory(c);
                if (Files.isDirectory(dir)) {
                    try (var entries = Files.list(dir)) {
                        if (entries.findAny().isPresent()) {
                            throw new DrException(Failure.CONFIG, "drill.storage directory " + dir + " is not empty: a drill restores into"
                                    + " an empty scratch directory; empty it (a copy kept by drill --keep?) or name another");
                        }
                    } catch (IOException e) {
                        throw new DrException(Failure.SOURCE, "cannot read drill.storage directory " + dir + ": " + e.getMessage(), e);
                    }
                }
                StorageTarget.directory(dir).preflight();
            }
        }
    }

    public String restoreRedis(List<Journal.ComponentTarget> components, boolean replace, boolean strict, List<String> warnings) {
        List<String> done = new ArrayList<>();
        for (Journal.ComponentTarget c : components) {
            if (!c.kind.equals(REDIS) || c.restored) {
                continue;
            }
            long start = System.nanoTime();
            begin(c);
            RedisRestore.Result r;
            try (Progress p = progress.apply("restore redis"); VerifiedPlainInput in = open(c, p)) {
                r = new RedisRestore(targets.redis()).restore(in, redisFormat(), replace);
                in.readToEnd();
            } catch (IOException e) {
                throw new DrException(Failure.STORE, "cannot read " + c.artifact + ": " + e.getMessage(), e);
            }
            List<String> problems = new ArrayList<>();
            if (r.kept() > 0) {
                warnings.add(r.kept() + " Redis keys already existed on " + c.target + " and were kept as they were (first: "
                        + String.join(", ", r.keptNames()) + "); run again with --redis-replace to replace them");
            }
            if (!r.unsupported().isEmpty()) {
                String names = r.unsupported().stream().map(Object::toString).collect(Collectors.joining(", "));
                problems.add(r.unsupported().size() + " Redis keys of a type RESTORE cannot recreate were not restored: " + names);
            }
            finish(c, start, r.restoredTotal() + " keys restored " + r.restored() + ", " + r.expiredSkipped() + " already expired, "
                    + r.kept() + " kept", problems, strict, warnings);
            done.add(c.target + ": " + c.detail);
        }
        return String.join("; ", done);
    }

    /** Restores every storage, then checks that each tenant of the restored main database has its private key. */
    public String restoreStorage(List<Journal.ComponentTarget> components, boolean overwrite, boolean strict, Database main,
                                 List<String> warnings) {
        List<String> done = new ArrayList<>();
        for (Journal.ComponentTarget c : components) {
            if (!c.kind.equals(STORAGE)) {
                continue;
            }
            try (StorageTarget target = storageTarget(c)) {
                if (!c.restored) {
                    long start = System.nanoTime();
                    begin(c);
                    StorageRestore.Result r;
                    try (Progress p = progress.apply("restore storage " + c.name); VerifiedPlainInput in = open(c, p)) {
                        r = StorageRestore.restore(in, target, overwrite);
                        in.readToEnd();
                    } catch (IOException e) {
                        throw new DrException(Failure.STORE, "restoring " + c.artifact + " into " + c.target + " failed: " + e.getMessage(), e);
                    }
                    List<String> problems = new ArrayList<>();
                    if (!r.conflicts().isEmpty()) {
                        warnings.add(r.conflicts().size() + " files in " + c.target + " differ from the backup and were kept as they were (first: "
                                + r.conflicts().stream().limit(10).map(x -> x.path() + " (" + x.reason() + ")").collect(Collectors.joining(", "))
                                + "); run again with --storage-overwrite to overwrite them");
                    }
                    finish(c, start, r.files() + " files (" + Bytes.human(r.bytes()) + "), " + r.directories() + " directories, "
                            + r.symlinks() + " symlinks written; " + r.unchanged() + " already there; " + r.conflicts().size() + " kept",
                            problems, false, warnings);
                }
                done.add(c.name + " -> " + c.target + ": " + c.detail);
                if (holdsPrivkeys(c.name)) {
                    done.add(privkeys(main, target, strict, warnings));
                }
            }
        }
        return String.join("; ", done);
    }

    /** The storage the tenants' keys live in: marked so in the configuration, or found holding keys when it was backed up. */
    private boolean holdsPrivkeys(String name) {
        StorageConfig config = targets.storage(name);
        boolean backedUpKeys = manifest.storage() != null && manifest.storage().stream()
                .anyMatch(f -> f.name().equals(name) && f.tenantsWithPrivkeys() > 0);
        return config.privkeys() || backedUpKeys;
    }

    private String privkeys(Database main, StorageTarget target, boolean strict, List<String> warnings) {
        List<String> tenants;
        try (Connection c = new PostgresConnector(main.server()).connect(main.name())) {
            tenants = PrivkeysCheck.tenantIds(c);
        } catch (SQLException e) {
            throw new DrException(Failure.SOURCE, "cannot read the tenants of the restored database " + main.name() + " for the privkeys check: "
                    + e.getMessage(), e);
        }
        PrivkeysCheck.Result r = PrivkeysCheck.check(tenants, target::exists, strict);
        if (r.warning() != null) {
            warnings.add("PRIVKEYS MISSING: " + r.warning());
            return "privkeys: " + r.missing().size() + " of " + r.tenants() + " tenants have no private key";
        }
        return "privkeys: all " + r.tenants() + " tenants of " + main.name() + " have their private key";
    }

    private void begin(Journal.ComponentTarget c) {
        c.started = true;
        save.run();
    }

    private void finish(Journal.ComponentTarget c, long start, String detail, List<String> problems, boolean strict, List<String> warnings) {
        c.seconds = Math.round((System.nanoTime() - start) / 1e6) / 1000.0;
        c.detail = detail;
        if (!problems.isEmpty()) {
            if (strict) {
                throw new DrException(Failure.VERIFY, String.join("; ", problems) + " (--strict)");
            }
            problems.forEach(p -> warnings.add(p + " (--strict makes this a failure)"));
        }
        c.restored = true;
        save.run();
        log.info("{} {} restored into {}: {}", c.kind, c.name, c.target, detail);
    }

    /**
     * Empties the drill's scratch targets that it began writing to. They were empty in preflight, so only what the
     * drill restored goes; a target it never wrote to (a preflight that failed on it) is left alone.
     */
    public String emptyScratch(List<Journal.ComponentTarget> components) {
        List<String> emptied = new ArrayList<>();
        for (Journal.ComponentTarget c : components) {
            if (!c.started || c.kind.equals(CONFIG)) {
                continue;
            }
            if (c.kind.equals(REDIS)) {
                try (Jedis jedis = new RedisEndpoint(targets.redis()).connect()) {
                    jedis.flushAll();
                }
            } else {
                Path dir = scratchDirectory(c);
                try {
                    TarExtractor.clear(dir);
                } catch (IOException e) {
                    throw new DrException(Failure.SOURCE, "cannot empty the drill's storage directory " + dir + ": " + e.getMessage(), e);
                }
            }
            emptied.add(c.target);
        }
        return emptied.isEmpty() ? "" : "; emptied " + String.join(", ", emptied);
    }

    private Path scratchDirectory(Journal.ComponentTarget c) {
        StorageConfig s = targets.storage(c.name);
        if (s.path() == null) {
            throw new DrException(Failure.CONFIG, targets.storageKey() + " '" + c.name + "': a drill restores storage into a scratch directory (path)");
        }
        return Path.of(s.path());
    }

    private StorageTarget storageTarget(Journal.ComponentTarget c) {
        StorageConfig s = targets.storage(c.name);
        if (s == null) {
            throw new DrException(Failure.CONFIG, "nowhere to restore storage '" + c.name + "' to: add it to " + targets.storageKey());
        }
        return StorageTarget.of(s, kubernetes);
    }

    private String redisFormat() {
        RedisFacts facts = manifest.redis();
        if (facts == null) {
            throw new DrException(Failure.VERIFY, "backup " + manifest.id() + " has a Redis artifact but no Redis facts in its manifest");
        }
        return facts.format();
    }

    /** How to go on without a component the backup lacks: a restore leaves it out of --with, a drill drops its target. */
    private String withoutIt(String kind, String key) {
        return targets.sourceIsDefault() ? "leave " + kind + " out of --with" : "remove " + key + " from the configuration to drill the rest";
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
    private VerifiedPlainInput open(Journal.ComponentTarget t, Progress p) {
        Artifact artifact = manifest.artifacts().stream().filter(a -> a.path().equals(t.artifact)).findFirst()
                .orElseThrow(() -> new DrException(Failure.VERIFY, "manifest of " + manifest.id() + " has no artifact " + t.artifact));
        try {
            return new ArtifactReader(repository).openPlain(manifest.id(), artifact, p);
        } catch (IOException e) {
            throw new DrException(Failure.STORE, "cannot read " + t.artifact + ": " + e.getMessage(), e);
        }
    }
}
