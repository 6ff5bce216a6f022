package dev.difydr.store.file;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;

/**
 * Files and directories only their owner can read: a backup holds every conversation and every tenant's private key,
 * so a local repository, a restore's journal and their temporary files are created 0600, their directories 0700
 * (on a file system without POSIX permissions, as the file system does).
 */
public final class PrivateFiles {
    private static final FileAttribute<Set<PosixFilePermission>> FILE = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    private static final FileAttribute<Set<PosixFilePermission>> DIRECTORY = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private PrivateFiles() {
    }

    private static boolean posix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** Creates the directory and its missing parents, each 0700; existing ones are left as they are. */
    public static Path createDirectories(Path dir) throws IOException {
        return posix(dir) ? Files.createDirectories(dir, DIRECTORY) : Files.createDirectories(dir);
    }

    /** Opens a new file (it must not exist) for writing, created 0600. */
    public static FileChannel createNew(Path file) throws IOException {
        Set<StandardOpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return posix(file) ? FileChannel.open(file, options, FILE) : FileChannel.open(file, options);
    }

    /** Writes a new file (replacing none), created 0600. */
    public static void write(Path file, byte[] bytes) throws IOException {
        try (FileChannel channel = createNew(file)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    /**
     * Replaces {@code file} with {@code bytes} at once: written to a new 0600 file beside it, flushed, and renamed over
     * it, then the directory flushed, so that a reader (or a crash) sees the old content or the new, never a mix.
     */
    public static void replace(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path temp = dir.resolve("." + file.getFileName() + ".tmp-" + Long.toHexString(new SecureRandom().nextLong()));
        try {
            write(temp, bytes);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        if (posix(dir)) {
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        }
    }
}
