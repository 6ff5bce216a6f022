package dev.difydr.testsupport;

import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/** Backups written straight into a repository, as a backup run leaves them, for tests of what reads them. */
public final class HandMadeBackups {
    private HandMadeBackups() {
    }

    /** A completed backup with one four-byte artifact, started a quarter second into its id's second. */
    public static void write(Repository repository, String id) {
        write(repository, id, new BackupId(id).time().plusMillis(250), Manifest.COMPLETED);
    }

    /** A backup with one four-byte artifact whose manifest records {@code started} and {@code status}. */
    public static void write(Repository repository, String id, Instant started, String status) {
        BackupId backupId = new BackupId(id);
        write(repository, id, started, status, "postgres", repository.layout().postgresDump(backupId, "dify"));
    }

    /** A completed backup of Redis alone (as the hourly schedule takes), with one four-byte artifact. */
    public static void writeRedisOnly(Repository repository, String id) {
        BackupId backupId = new BackupId(id);
        write(repository, id, backupId.time().plusMillis(250), Manifest.COMPLETED, "redis", repository.layout().redisSnapshot(backupId, "rdb"));
    }

    /** A completed backup of PostgreSQL whose manifest records {@code component} as skipped (an optional part that failed). */
    public static void writeSkipping(Repository repository, String id, String component) {
        BackupId backupId = new BackupId(id);
        write(repository, id, backupId.time().plusMillis(250), Manifest.COMPLETED, "postgres", repository.layout().postgresDump(backupId, "dify"),
                List.of(new Manifest.Skipped(component, component, "optional and failed: test")));
    }

    private static void write(Repository repository, String id, Instant started, String status, String kind, String key) {
        write(repository, id, started, status, kind, key, null);
    }

    private static void write(Repository repository, String id, Instant started, String status, String kind, String key,
                              List<Manifest.Skipped> skipped) {
        repository.store().put(key, "dump".getBytes(StandardCharsets.UTF_8));
        repository.commit(new Manifest(Manifest.FORMAT_VERSION, id, repository.layout().deployment(), "test", status, started,
                started.plusSeconds(5), List.of(new Artifact(kind.equals("postgres") ? "dify" : kind, kind, key, 4, 4, "x", "y", "zstd", "none", null)),
                skipped, null, null, null, null));
    }
}
