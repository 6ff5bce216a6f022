package dev.difydr.source.storage;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.config.StorageConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** A file storage read as one tar ({@link TarFormat}), whatever holds it: a directory, a pod or a bucket prefix. */
public interface StorageSource extends AutoCloseable {

    /** Where the storage is, for messages and the manifest (no credentials). */
    String describe();

    /** Proves the storage can be read, before anything is stored. */
    void preflight();

    /** Writes the whole storage as a tar to {@code out} (not closed). */
    TarStats writeTar(OutputStream out) throws IOException;

    /** Stops a tar in progress (on a signal); the default has nothing running elsewhere to stop. */
    default void stop() {
    }

    @Override
    default void close() {
    }

    /** The source a storage section names; {@code kubernetes} (may be null) gives the default namespace of a pod. */
    static StorageSource of(StorageConfig config, KubernetesConfig kubernetes) {
        if (config.path() != null) {
            return new DirectorySource(Path.of(config.path()));
        }
        if (config.pod() != null) {
            return PodStorage.connect(config.pod(), kubernetes);
        }
        return BucketStorage.open(config.bucket());
    }

    record DirectorySource(Path path) implements StorageSource {
        @Override
        public String describe() {
            return path.toString();
        }

        @Override
        public void preflight() {
            String names = System.getProperty("sun.jnu.encoding", "");
            if (!names.equalsIgnoreCase("UTF-8")) {
                throw new DrException(Failure.SOURCE, "this Java reads file names as " + names + ", so names beyond ASCII in " + path
                        + " cannot be read: run dify-dr with a UTF-8 locale (LANG=C.UTF-8; the dify-dr launcher sets it)");
            }
            if (!Files.isDirectory(path)) {
                throw new DrException(Failure.SOURCE, "storage directory " + path + " does not exist or is not a directory"
                        + " (mount the storage volume where dify-dr runs, or fix storage[].path)");
            }
            if (!Files.isReadable(path) || !Files.isExecutable(path)) {
                throw new DrException(Failure.SOURCE, "storage directory " + path + " is not readable by this user; run dify-dr"
                        + " as the storage's user or with the pod's fsGroup");
            }
        }

        @Override
        public TarStats writeTar(OutputStream out) throws IOException {
            return DirectoryTar.write(path, out);
        }
    }
}
