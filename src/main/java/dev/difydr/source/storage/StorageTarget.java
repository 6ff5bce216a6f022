package dev.difydr.source.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where a storage tar is restored to: a local directory, a bucket prefix or a directory in a pod. */
public interface StorageTarget {

    String describe();

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
        public boolean exists(String relativePath) {
            return Files.isRegularFile(path.resolve(relativePath));
        }

        @Override
        public StorageRestore.Result restore(InputStream plainTar, boolean overwrite) throws IOException {
            return TarExtractor.extract(plainTar, path, overwrite);
        }
    }
}
