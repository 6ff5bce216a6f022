package dev.difydr.source.postgres;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts a tar into a directory and nowhere else: absolute names, {@code ..} and links that point outside the
 * directory are refused, as are device files and FIFOs, and no existing file is overwritten. Permission bits come
 * from the archive; owners do not (the caller chowns).
 */
final class SafeTarExtractor {
    private final Path root;
    private long files;
    private long bytes;

    SafeTarExtractor(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    long files() {
        return files;
    }

    long bytes() {
        return bytes;
    }

    /** Extracts every entry of {@code tar} (which is read up to the end-of-archive marker, not further). */
    void extract(InputStream tar, String archive) throws IOException {
        TarArchiveInputStream in = new TarArchiveInputStream(tar);
        TarArchiveEntry entry;
        while ((entry = in.getNextEntry()) != null) {
            Path target = inside(entry.getName(), archive);
            if (entry.isDirectory()) {
                Files.createDirectories(target);
            } else if (entry.isSymbolicLink()) {
                String link = entry.getLinkName();
                if (Path.of(link).isAbsolute() || !target.getParent().resolve(link).normalize().startsWith(root)) {
                    throw unsafe(archive, entry.getName() + " is a link to " + link + ", outside the directory");
                }
                Files.createDirectories(target.getParent());
                Files.createSymbolicLink(target, Path.of(link));
                continue;
            } else if (entry.isLink()) {
                Path existing = inside(entry.getLinkName(), archive);
                Files.createDirectories(target.getParent());
                Files.createLink(target, existing);
                continue;
            } else if (entry.isFile()) {
                Files.createDirectories(target.getParent());
                try (var out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    bytes += in.transferTo(out);
                }
                files++;
            } else {
                throw unsafe(archive, entry.getName() + " is neither a file, a directory nor a link");
            }
            Files.setPosixFilePermissions(target, permissions(entry.getMode()));
        }
    }

    private Path inside(String name, String archive) {
        Path relative = Path.of(name);
        if (relative.isAbsolute() || name.startsWith("/")) {
            throw unsafe(archive, name + " is an absolute path");
        }
        for (Path part : relative) {
            if (part.toString().equals("..")) {
                throw unsafe(archive, name + " climbs out with '..'");
            }
        }
        Path target = root.resolve(relative).normalize();
        if (!target.startsWith(root)) {
            throw unsafe(archive, name + " lies outside the directory");
        }
        return target;
    }

    private static DrException unsafe(String archive, String what) {
        return new DrException(Failure.VERIFY, "refusing to extract " + archive + ": " + what);
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                out.add(bits[i]);
            }
        }
        return out;
    }
}
