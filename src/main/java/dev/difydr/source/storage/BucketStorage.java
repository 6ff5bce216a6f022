package dev.difydr.source.storage;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.RepositoryConfig;
import dev.difydr.config.StorageConfig;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.Stores;
import dev.difydr.store.Upload;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dify's storage in a bucket ({@code STORAGE_TYPE} s3 or aliyun-oss) as a tar: one regular-file entry per object
 * under the prefix, named by its key relative to the prefix, so that the artifact is the same standard tar as a
 * directory's. Objects carry no mode or owner: entries are 0644, owned by 0:0, with the time of the backup as mtime
 * (a listing gives no modification times, and a HEAD per object would cost a request each). Keys ending in
 * {@code /} (folder markers) are left out. Restoring writes every regular file back under the (possibly different)
 * prefix of the store; directories have no object, symlinks are skipped and counted.
 */
public final class BucketStorage implements StorageSource, StorageTarget {
    private static final Logger log = LoggerFactory.getLogger(BucketStorage.class);

    private final ObjectStore store;

    public BucketStorage(ObjectStore store) {
        this.store = store;
    }

    /** A bucket prefix opened through {@link Stores}, with the section's client settings. */
    public static BucketStorage open(StorageConfig.BucketPrefix bucket) {
        return new BucketStorage(Stores.open(new RepositoryConfig(bucket.url(), bucket.s3(), bucket.oss())));
    }

    @Override
    public String describe() {
        return store.describe();
    }

    @Override
    public void preflight() {
        try {
            store.check();
        } catch (DrException e) {
            throw new DrException(Failure.SOURCE, "storage bucket " + store.describe() + " cannot be listed: " + e.getMessage(), e);
        }
    }

    @Override
    public TarStats writeTar(OutputStream out) throws IOException {
        TarStats.Counter counter = new TarStats.Counter();
        FileTime now = FileTime.fromMillis(System.currentTimeMillis());
        byte[] buffer = new byte[TarFormat.BUFFER];
        TarArchiveOutputStream tar = TarFormat.writer(out);
        for (ObjectStore.ObjectInfo o : store.list("")) {
            if (o.key().endsWith("/")) {
                continue;
            }
            TarArchiveEntry e = new TarArchiveEntry(o.key(), TarConstants.LF_NORMAL, true);
            e.setMode(0100644);
            e.setLastModifiedTime(now);
            e.setSize(o.size());
            InputStream in;
            try {
                in = store.open(o.key());
            } catch (dev.difydr.store.NoSuchObjectException gone) {
                log.warn("{}: {} was deleted while the bucket was read; not in the backup", store.describe(), o.key());
                counter.skipped++;
                continue;
            }
            try (in) {
                tar.putArchiveEntry(e);
                long remaining = o.size();
                while (remaining > 0) {
                    int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                    if (n < 0) {
                        throw new DrException(Failure.SOURCE, store.describe() + ": " + o.key() + " ended after "
                                + (o.size() - remaining) + " of its listed " + o.size() + " bytes (replaced while read?); run the backup again");
                    }
                    tar.write(buffer, 0, n);
                    remaining -= n;
                }
                tar.closeArchiveEntry();
            }
            counter.file(o.key(), o.size());
        }
        tar.finish();
        tar.close();
        return counter.stats();
    }

    @Override
    public boolean exists(String relativePath) {
        return store.size(relativePath).isPresent();
    }

    /**
     * Writes every regular file of the tar as an object. An existing object is compared first: same bytes, it is
     * unchanged; different, it is a conflict unless {@code overwrite}. The comparison streams both sides, so memory
     * stays one buffer whatever the object sizes.
     */
    @Override
    public StorageRestore.Result restore(InputStream plainTar, boolean overwrite) throws IOException {
        TarArchiveInputStream in = TarFormat.reader(plainTar);
        byte[] buffer = new byte[TarFormat.BUFFER];
        List<StorageRestore.Conflict> conflicts = new ArrayList<>();
        long files = 0;
        long bytes = 0;
        long unchanged = 0;
        long skipped = 0;
        TarArchiveEntry e;
        while ((e = in.getNextEntry()) != null) {
            String key = TarEntryRules.relativeName(e);
            if (e.isDirectory() || key.isEmpty()) {
                continue;
            }
            if (!e.isFile()) {
                log.warn("{}: '{}' is a {} and a bucket holds none; skipped", store.describe(), key, e.isSymbolicLink() ? "symlink" : "hard link");
                skipped++;
                continue;
            }
            if (!overwrite) {
                Long existing = store.size(key).orElse(null);
                if (existing != null) {
                    if (existing != e.getSize()) {
                        conflicts.add(new StorageRestore.Conflict(key, "the existing object differs (" + existing + " bytes, the archive's " + e.getSize() + ")"));
                    } else if (sameContent(in, key, buffer)) {
                        unchanged++;
                    } else {
                        conflicts.add(new StorageRestore.Conflict(key, "the existing object has different content"));
                    }
                    continue;
                }
            }
            try (Upload upload = store.create(key)) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    upload.write(buffer, 0, n);
                }
                upload.commit();
            }
            files++;
            bytes += e.getSize();
        }
        for (StorageRestore.Conflict c : conflicts) {
            log.warn("{}: {} not restored, {}", store.describe(), c.path(), c.reason());
        }
        return new StorageRestore.Result(store.describe(), files, 0, 0, bytes, unchanged, skipped, List.copyOf(conflicts));
    }

    private boolean sameContent(InputStream entry, String key, byte[] buffer) throws IOException {
        byte[] other = new byte[8192];
        try (InputStream object = store.open(key)) {
            int n;
            while ((n = entry.read(buffer, 0, other.length)) > 0) {
                if (object.readNBytes(other, 0, n) != n || !java.util.Arrays.equals(buffer, 0, n, other, 0, n)) {
                    return false;
                }
            }
            return object.read() < 0;
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
