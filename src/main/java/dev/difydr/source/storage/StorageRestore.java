package dev.difydr.source.storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Puts a storage tar (plain, already decompressed and checked against its manifest hash) back into a target. Entries
 * are validated as {@link TarExtractor} describes for every kind of target. Existing files are never replaced unless
 * {@code overwrite}: identical ones count as {@code unchanged}, different ones are {@link Conflict}s for the caller.
 */
public final class StorageRestore {
    private StorageRestore() {
    }

    /** A path (relative to the target) that was left as it was, and why. */
    public record Conflict(String path, String reason) {
    }

    /**
     * {@code files}/{@code bytes}: regular files written (new or replaced); {@code unchanged}: entries that already
     * matched; {@code skipped}: entries this kind of target cannot hold (symlinks in a bucket).
     */
    public record Result(String target, long files, long directories, long symlinks, long bytes, long unchanged,
                         long skipped, List<Conflict> conflicts) {
    }

    public static Result restore(InputStream plainTar, StorageTarget target, boolean overwrite) throws IOException {
        return target.restore(plainTar, overwrite);
    }
}
