package dev.difydr.repository;

import java.util.Optional;

/**
 * The only place that formats object keys. Keys are relative to the store's root:
 * <pre>
 * &lt;deployment&gt;/backups/&lt;backup-id&gt;/manifest.json                 written last: the commit marker
 * &lt;deployment&gt;/backups/&lt;backup-id&gt;/postgres/&lt;database&gt;.dump.zst     logical mode
 * &lt;deployment&gt;/backups/&lt;backup-id&gt;/postgres/base.tar.zst            physical mode (also pg_wal, &lt;tablespace oid&gt;)
 * &lt;deployment&gt;/backups/&lt;backup-id&gt;/redis/dump.rdb.zst               (dump.keys.zst from the logical fallback)
 * &lt;deployment&gt;/backups/&lt;backup-id&gt;/storage/&lt;name&gt;.tar.zst
 * &lt;deployment&gt;/backups/&lt;backup-id&gt;/kubernetes/resources.json.zst.enc  Dify's ConfigMaps, Secrets and env: encrypted only
 * &lt;deployment&gt;/backups/&lt;backup-id&gt;/verify.json                   the last verify's verdict; not an artifact
 * &lt;deployment&gt;/restores/&lt;restore-id&gt;/journal.json                 rewritten after every step
 * &lt;deployment&gt;/drills/&lt;drill-id&gt;/report.json, report.md
 * &lt;deployment&gt;/locks/&lt;lock-id&gt;.json                             one per running backup, verify, drill, restore, prune
 * </pre>
 */
public record RepositoryLayout(String deployment) {
    public static final String MANIFEST = "manifest.json";
    public static final String VERIFY_RECORD = "verify.json";

    /** Everything of this deployment: backups, restores, drills, and unfinished uploads of any of them. */
    public String deploymentPrefix() {
        return deployment + "/";
    }

    public String backupsPrefix() {
        return deployment + "/backups/";
    }

    public String backupPrefix(BackupId id) {
        return backupsPrefix() + id + "/";
    }

    public String manifest(BackupId id) {
        return backupPrefix(id) + MANIFEST;
    }

    /** The verdict of the last {@code verify} of a backup, beside its manifest. */
    public String verifyRecord(BackupId id) {
        return backupPrefix(id) + VERIFY_RECORD;
    }

    public String postgresDump(BackupId id, String database) {
        return backupPrefix(id) + "postgres/" + database + ".dump.zst";
    }

    /** One tar of a {@code pg_basebackup}: {@code base}, {@code pg_wal} or a tablespace's OID. */
    public String postgresPhysical(BackupId id, String archive) {
        return backupPrefix(id) + "postgres/" + archive + ".tar.zst";
    }

    /** A Redis snapshot: {@code rdb} (the server's own RDB file) or {@code keys} (the logical fallback's stream). */
    public String redisSnapshot(BackupId id, String format) {
        return backupPrefix(id) + "redis/dump." + format + ".zst";
    }

    public String storageTar(BackupId id, String name) {
        return backupPrefix(id) + "storage/" + name + ".tar.zst";
    }

    /** Dify's ConfigMaps, Secrets and Deployment env as one JSON document; stored only encrypted, at {@link #encrypted} of this key. */
    public String kubernetesResources(BackupId id) {
        return backupPrefix(id) + "kubernetes/resources.json.zst";
    }

    /** Where an artifact that would be stored in the clear at {@code plainKey} is stored encrypted. */
    public String encrypted(String plainKey) {
        return plainKey + ".enc";
    }

    public String restoreJournal(String restoreId) {
        return deployment + "/restores/" + restoreId + "/journal.json";
    }

    public String drillReport(String drillId, String extension) {
        return deployment + "/drills/" + drillId + "/report." + extension;
    }

    public String locksPrefix() {
        return deployment + "/locks/";
    }

    public String lock(String lockId) {
        return locksPrefix() + lockId + ".json";
    }

    /** The lock id of a key under {@link #locksPrefix()}, if it is one. */
    public Optional<String> lockOf(String key) {
        if (!key.startsWith(locksPrefix()) || !key.endsWith(".json")) {
            return Optional.empty();
        }
        String id = key.substring(locksPrefix().length(), key.length() - ".json".length());
        return BackupId.isValid(id) ? Optional.of(id) : Optional.empty();
    }

    /** The backup a key belongs to, if it lies under this deployment's backups. */
    public Optional<BackupId> backupOf(String key) {
        if (!key.startsWith(backupsPrefix())) {
            return Optional.empty();
        }
        String rest = key.substring(backupsPrefix().length());
        int slash = rest.indexOf('/');
        String id = slash < 0 ? rest : rest.substring(0, slash);
        return BackupId.isValid(id) ? Optional.of(new BackupId(id)) : Optional.empty();
    }

    public boolean isManifest(String key) {
        return key.endsWith("/" + MANIFEST) && backupOf(key).map(id -> key.equals(manifest(id))).orElse(false);
    }

    public boolean isVerifyRecord(String key) {
        return key.endsWith("/" + VERIFY_RECORD) && backupOf(key).map(id -> key.equals(verifyRecord(id))).orElse(false);
    }
}
