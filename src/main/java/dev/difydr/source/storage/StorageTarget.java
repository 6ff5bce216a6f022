package dev.difydr.source.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where a storage tar is restored to: a local directory, a bucket prefix or a directory in a pod. */
public interface StorageTarget extends AutoCloseable {

    String describe();

    /** Proves the target can be written to (reachable, permitted), before anything is restored. */
    void preflight();

    @Override
    default void close() {
    }

    /** The target a storage section names; {@code kubernetes} (may be null) gives the default namespace of a pod. */
    static StorageTarget of(dev.difydr.config.StorageConfig config, dev.difydr.config.KubernetesConfig kubernetes) {
        if (config.path() != null) {
            return directory(Path.of(config.path()));
        }
        if (config.pod() != null) {
            return PodStorage.connect(config.pod(), kubernetes);
        }
        return BucketStorage.open(config.bucket());
    }

    /** Whether a regular file exists at this path relative to the target (for the privkeys check). */
    boolean exists(String relativePath);

    StorageRestore.Result restore(InputStream plainTar, boolean overwrite) throws IOException;

    static StorageTarget directory(Path path) {
        return new DirectoryTarget(path);
    }

    record DirectoryTarget(Path path) implements StorageTarget {
        @Override
        public String describe() {
            return path.toString();
        }

        @Override
        public void preflight() {
            Path existing = path;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            if (existing == null || !Files.isDirectory(existing) || !Files.isWritable(existing)) {
                throw new dev.difydr.DrException(dev.difydr.Failure.SOURCE, "cannot restore storage into " + path + ": "
                        + (existing == null ? "no part of the path exists" : existing + " is not a writable directory")
                        + " (mount the storage volume where dify-dr runs, or run as its user)");
            }
        }

        @Override
        public boolean exists(String relativePath) {
            return Files.isRegularFile(path.resolve(relativePath));
        }

        @Override
        public StorageRestore.Result restore(InputStream plainTar, boolean overwrite) throws IOException {
            return TarExtractor.extract(plainTar, path, overwrite);
        }
    }
}
