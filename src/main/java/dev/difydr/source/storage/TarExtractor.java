package dev.difydr.source.storage;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.Comparator;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extracts a tar into a directory without ever writing outside it: entries with absolute paths or {@code ..}, symlinks
 * and hard links that point outside, writes through a symlink (one from an earlier entry or one already in the
 * target) and device or fifo entries are refused with a {@link DrException} naming the entry; so is a symlink of the
 * archive that leads outside through a symlink that was already in the target, removed again at the end. Permission
 * bits (not setuid/setgid/sticky) and mtimes are restored; ownership is the extracting user's. Existing files are never replaced
 * unless {@code overwrite}: one with the same content is left alone, one that differs is a {@link Conflict} in the
 * result for the caller to decide on. Directory modes and mtimes are applied last, so that a read-only directory
 * does not block its own entries. Memory is one buffer, whatever the file sizes.
 */
public final class TarExtractor {
    private static final Logger log = LoggerFactory.getLogger(TarExtractor.class);
    /** Linux's limit on symlinks followed in one path resolution; beyond it the kernel answers ELOOP. */
    private static final int MAX_SYMLINK_HOPS = 40;

    private record DirectoryTimes(Path path, int mode, FileTime mtime) {
    }

    private final Path base;
    private final String target;
    private final boolean overwrite;
    private final byte[] buffer = new byte[TarFormat.BUFFER];
    // directories this run made or checked to be real directories (not symlinks), so each is looked at once
    private final Set<Path> knownDirectories = new HashSet<>();
    private final List<DirectoryTimes> directoryTimes = new ArrayList<>();
    private final List<StorageRestore.Conflict> conflicts = new ArrayList<>();
    // the symlinks this run made, with their entries' names; and every symlink of the archive now on disk
    private final Map<Path, String> createdSymlinks = new LinkedHashMap<>();
    private final Set<Path> archiveSymlinks = new HashSet<>();
    private long files;
    private long directories;
    private long symlinks;
    private long bytes;
    private long unchanged;

    private TarExtractor(Path base, boolean overwrite) {
        this.base = base;
        this.target = base.toString();
        this.overwrite = overwrite;
        knownDirectories.add(base);
    }

    /**
     * Removes everything under {@code target}, which stays, empty: undoes an extraction into a directory that was empty
     * before. Symbolic links are removed, never followed.
     */
    public static void clear(Path target) throws IOException {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(target)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(target)).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Extracts {@code tar} (a plain tar stream, not closed) into {@code target}, which is created if missing. */
    public static StorageRestore.Result extract(InputStream tar, Path target, boolean overwrite) throws IOException {
        Files.createDirectories(target);
        TarExtractor x = new TarExtractor(target.toRealPath(), overwrite);
        return x.run(TarFormat.reader(tar));
    }

    private StorageRestore.Result run(TarArchiveInputStream in) throws IOException {
        TarArchiveEntry e;
        while ((e = in.getNextEntry()) != null) {
            String rel = TarEntryRules.relativeName(e);
            if (rel.isEmpty()) {
                continue; // the archive's root: the target directory keeps its own mode and owner
            }
            Path path = parentsChecked(rel, e.getName()).resolve(lastComponent(rel));
            if (e.isDirectory()) {
                directory(path, rel, e);
            } else if (e.isSymbolicLink()) {
                TarEntryRules.checkSymlink(rel, e.getName(), e.getLinkName());
                symlink(path, rel, e);
            } else if (e.isLink()) {
                hardLink(path, rel, e);
            } else {
                file(path, rel, e, in);
            }
        }
        checkSymlinksOnDisk();
        for (int i = directoryTimes.size() - 1; i >= 0; i--) {
            DirectoryTimes d = directoryTimes.get(i);
            Files.setPosixFilePermissions(d.path(), permissions(d.mode()));
            Files.setLastModifiedTime(d.path(), d.mtime());
        }
        for (StorageRestore.Conflict c : conflicts) {
            log.warn("{}: not restored, {}", c.path(), c.reason());
        }
        return new StorageRestore.Result(target, files, directories, symlinks, bytes, unchanged, 0, List.copyOf(conflicts));
    }

    /** The entry's parent directory, created where missing; refuses a parent that is a symlink or a file. */
    private Path parentsChecked(String rel, String entryName) throws IOException {
        List<String> parts = TarEntryRules.components(rel);
        Path dir = base;
        for (int i = 0; i < parts.size() - 1; i++) {
            dir = dir.resolve(parts.get(i));
            if (knownDirectories.contains(dir)) {
                continue;
            }
            BasicFileAttributes a = attributes(dir);
            if (a == null) {
                Files.createDirectory(dir);
            } else if (a.isSymbolicLink()) {
                throw TarEntryRules.refused(entryName, "would be written through the symlink '" + base.relativize(dir) + "'");
            } else if (!a.isDirectory()) {
                throw TarEntryRules.refused(entryName, "needs '" + base.relativize(dir) + "' to be a directory, and it is a file");
            }
            knownDirectories.add(dir);
        }
        return dir;
    }

    private void directory(Path path, String rel, TarArchiveEntry e) throws IOException {
        BasicFileAttributes a = attributes(path);
        if (a == null) {
            Files.createDirectory(path);
            directories++;
        } else if (a.isDirectory()) {
            unchanged++;
        } else {
            conflicts.add(new StorageRestore.Conflict(rel, "the archive has a directory here and the target a " + (a.isSymbolicLink() ? "symlink" : "file")));
            return;
        }
        knownDirectories.add(path);
        directoryTimes.add(new DirectoryTimes(path, e.getMode(), e.getLastModifiedTime()));
    }

    private void symlink(Path path, String rel, TarArchiveEntry e) throws IOException {
        Path linkTarget = Path.of(e.getLinkName());
        BasicFileAttributes a = attributes(path);
        if (a != null) {
            if (a.isSymbolicLink() && Files.readSymbolicLink(path).equals(linkTarget)) {
                archiveSymlinks.add(path);
                unchanged++;
                return;
            }
            if (!overwrite || a.isDirectory()) {
                conflicts.add(new StorageRestore.Conflict(rel, "the target has a different " + kind(a) + " here"));
                return;
            }
            Files.delete(path);
        }
        Files.createSymbolicLink(path, linkTarget);
        createdSymlinks.put(path, e.getName());
        archiveSymlinks.add(path);
        try {
            Files.getFileAttributeView(path, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setTimes(e.getLastModifiedTime(), null, null);
        } catch (IOException | UnsupportedOperationException ignored) {
            // a symlink's own mtime is cosmetic; not every file system can set it
        }
        symlinks++;
    }

    /**
     * Removes and refuses the symlinks this run made that lead outside the target on disk. {@link TarEntryRules} keeps
     * the archive's own links inside, but a symlink that was already in the target directory is not bound by them
     * ({@code x -> /elsewhere}, then the archive's {@code y -> x}). Checked once everything is extracted, as the
     * archive may name a link before what it leads through; nothing is written through a symlink meanwhile.
     */
    private void checkSymlinksOnDisk() throws IOException {
        List<String> refused = new ArrayList<>();
        for (Map.Entry<Path, String> link : createdSymlinks.entrySet()) {
            Path through = leadsOutsideThrough(link.getKey());
            if (through != null) {
                Files.delete(link.getKey());
                symlinks--;
                refused.add("'" + TarEntryRules.printable(link.getValue()) + "' through '" + base.relativize(through) + "'");
            }
        }
        if (!refused.isEmpty()) {
            throw new DrException(Failure.SOURCE, "refusing tar entry " + refused.get(0) + ": it is a symlink that leads outside "
                    + target + " through a symlink that was already there, so it was removed again"
                    + (refused.size() > 1 ? " (so were " + String.join(", ", refused.subList(1, refused.size())) + ")" : "")
                    + "; everything else was extracted and nothing outside the target was written. Remove or fix the symlink"
                    + " already there if it is not wanted, then restore again");
        }
    }

    /**
     * The symlink already in the target through which {@code link} leads outside it, or null when it leads inside
     * (or nowhere: into a missing name inside, or a loop). Follows the link as the kernel would, one component at a time.
     */
    private Path leadsOutsideThrough(Path link) throws IOException {
        Deque<String> rest = new ArrayDeque<>(List.of(Files.readSymbolicLink(link).toString().split("/")));
        Path at = link.getParent();
        Path through = null;
        int hops = 0;
        while (!rest.isEmpty()) {
            String c = rest.pollFirst();
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                at = at.getParent() == null ? at : at.getParent();
                continue;
            }
            Path next = at.resolve(c);
            BasicFileAttributes a;
            try {
                a = attributes(next);
            } catch (IOException unreadable) {
                break; // as a missing name: nothing beyond it is reachable from here
            }
            if (a == null || !(a.isDirectory() || a.isSymbolicLink())) {
                break; // a missing name ends the walk in 'at'; so does a file, which nothing resolves beyond
            }
            if (a.isDirectory()) {
                at = next;
                continue;
            }
            if (++hops > MAX_SYMLINK_HOPS) {
                return null; // ELOOP: resolves nowhere
            }
            if (through == null && !archiveSymlinks.contains(next)) {
                through = next;
            }
            String target = Files.readSymbolicLink(next).toString();
            if (target.startsWith("/")) {
                at = next.getRoot();
            }
            List<String> parts = List.of(target.split("/"));
            for (int i = parts.size() - 1; i >= 0; i--) {
                rest.addFirst(parts.get(i));
            }
        }
        return at.startsWith(base) ? null : through == null ? link : through;
    }

    private void hardLink(Path path, String rel, TarArchiveEntry e) throws IOException {
        String targetRel = TarEntryRules.hardLinkTarget(e.getName(), e.getLinkName());
        Path existingFile = parentsChecked(targetRel, e.getName()).resolve(lastComponent(targetRel));
        BasicFileAttributes t = attributes(existingFile);
        if (t == null || !t.isRegularFile()) {
            throw TarEntryRules.refused(e.getName(), "is a hard link to '" + e.getLinkName() + "', which is no regular file extracted before it");
        }
        BasicFileAttributes a = attributes(path);
        if (a != null) {
            if (Files.isSameFile(path, existingFile)) {
                unchanged++;
                return;
            }
            if (!overwrite || a.isDirectory()) {
                conflicts.add(new StorageRestore.Conflict(rel, "the target has a different " + kind(a) + " here"));
                return;
            }
            Files.delete(path);
        }
        Files.createLink(path, existingFile);
        files++;
    }

    private void file(Path path, String rel, TarArchiveEntry e, InputStream data) throws IOException {
        BasicFileAttributes a = attributes(path);
        if (a == null) {
            write(path, data, e);
            files++;
            bytes += e.getSize();
            return;
        }
        if (!a.isRegularFile() || (a.size() != e.getSize() && !overwrite)) {
            if (a.isRegularFile() || !overwrite || a.isDirectory()) {
                conflicts.add(new StorageRestore.Conflict(rel, a.isRegularFile()
                        ? "the existing file differs (" + a.size() + " bytes, the archive's " + e.getSize() + ")"
                        : "the target has a " + kind(a) + " here"));
                return;
            }
            Files.delete(path); // a symlink or other non-directory, replaced as asked
            write(path, data, e);
            files++;
            bytes += e.getSize();
            return;
        }
        // Same size (or overwrite): the entry goes to a temporary file beside it, to compare without holding it in memory.
        Path temp = path.resolveSibling("." + path.getFileName() + ".dify-dr-" + UUID.randomUUID());
        try {
            write(temp, data, e);
            if (Files.mismatch(temp, path) == -1) {
                unchanged++;
            } else if (overwrite) {
                Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                files++;
                bytes += e.getSize();
            } else {
                conflicts.add(new StorageRestore.Conflict(rel, "the existing file has different content"));
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private void write(Path path, InputStream data, TarArchiveEntry e) throws IOException {
        // CREATE_NEW (O_EXCL) never follows a symlink that appeared at this name
        try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            int n;
            while ((n = data.read(buffer)) > 0) {
                out.write(buffer, 0, n);
            }
        } catch (FileAlreadyExistsException raced) {
            throw new DrException(Failure.SOURCE, path + " appeared while the archive was extracted; nothing was written to it", raced);
        }
        Files.setPosixFilePermissions(path, permissions(e.getMode()));
        Files.setLastModifiedTime(path, e.getLastModifiedTime());
    }

    private static BasicFileAttributes attributes(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    private static String kind(BasicFileAttributes a) {
        return a.isDirectory() ? "directory" : a.isSymbolicLink() ? "symlink" : a.isRegularFile() ? "file" : "special file";
    }

    private static String lastComponent(String rel) {
        return rel.substring(rel.lastIndexOf('/') + 1);
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int bit = 0; bit < order.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                out.add(order[bit]);
            }
        }
        return out;
    }
}
