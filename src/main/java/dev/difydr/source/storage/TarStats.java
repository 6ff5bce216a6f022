package dev.difydr.source.storage;

/**
 * What went into a storage tar. {@code skipped}: files left out (vanished while the tar was written, sockets, fifos,
 * devices); {@code tenantsWithPrivkeys}: regular files {@code privkeys/<tenant>/private.pem} seen, for the restore's
 * privkeys check to compare against.
 */
public record TarStats(long files, long directories, long symlinks, long bytes, long skipped, long tenantsWithPrivkeys) {

    /** Counts entries as they are written; not thread-safe. */
    static final class Counter {
        long files;
        long directories;
        long symlinks;
        long bytes;
        long skipped;
        long privkeys;

        void file(String name, long size) {
            files++;
            bytes += size;
            if (PrivkeysCheck.isPrivkeyPath(name)) {
                privkeys++;
            }
        }

        TarStats stats() {
            return new TarStats(files, directories, symlinks, bytes, skipped, privkeys);
        }
    }
}
