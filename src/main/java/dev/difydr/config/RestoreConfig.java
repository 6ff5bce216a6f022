package dev.difydr.config;

/**
 * How databases are restored. {@code target} is the server to restore into when it is not the one in
 * {@code postgres} (its unset keys are taken from {@code postgres}); {@code databaseOwner} overrides the owner of the
 * new databases, which is otherwise Dify's own {@code DB_USERNAME}. {@code tempDir} holds the decompressed dump that
 * lets {@code pg_restore} run {@code jobs} workers; without room there the dump is streamed to a single worker.
 * {@code redis} and {@code storage} say where {@code --with redis,storage} restores to when that is not where the
 * backup came from (the {@code redis} section; each storage's own location), a storage target matched by name.
 */
public record RestoreConfig(
        PostgresTarget target,
        String databaseOwner,
        String tempDir,
        Integer jobs,
        String journalDir,
        RedisConfig redis,
        java.util.List<StorageConfig> storage) {

    public static final RestoreConfig DEFAULT = new RestoreConfig(null, null, null, null, null, null, null);

    public RestoreConfig {
        tempDir = tempDir == null ? System.getProperty("java.io.tmpdir") : tempDir;
        jobs = jobs == null ? Math.max(2, Runtime.getRuntime().availableProcessors()) : jobs;
        storage = storage == null ? java.util.List.of() : java.util.List.copyOf(storage);
    }

    /** A PostgreSQL server to restore into; unset keys fall back to the {@code postgres} section. */
    public record PostgresTarget(String host, Integer port, String user, Secret password, String sslmode) {

        /** This target with its unset keys taken from {@code base} (which may be null); {@code binDir} is base's. */
        public PostgresConfig over(PostgresConfig base) {
            return new PostgresConfig(
                    host != null ? host : base == null ? null : base.host(),
                    port != null ? port : base == null ? null : base.port(),
                    user != null ? user : base == null ? null : base.user(),
                    password != null ? password : base == null ? null : base.password(),
                    null, null,
                    sslmode != null ? sslmode : base == null ? null : base.sslmode(),
                    base == null ? null : base.binDir());
        }
    }
}
