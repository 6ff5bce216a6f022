package dev.difydr.source.storage;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a directory tree as a tar ({@link TarFormat}) in a deterministic order (names sorted in each directory):
 * regular files, directories and symlinks (stored as links, never followed), with permission bits, mtimes to the
 * millisecond and numeric uid/gid. Entry names are relative to the root, without {@code ./}; the root itself has no
 * entry. The tree may change while it is read, as Dify keeps writing: a file or directory that vanishes is skipped,
 * a file that grows is cut at the size it had when it was listed (a tar header states the size before the data),
 * one that shrinks is padded with zeros; each case is logged and counted. Sockets, fifos and devices are skipped.
 * An unreadable file fails the tar: a backup that silently lacks files is worse than none.
 */
public final class DirectoryTar {
    private static final Logger log = LoggerFactory.getLogger(DirectoryTar.class);
    // one stat per entry: every attribute the header needs, without the owner-name lookups "unix:*" would add
    private static final String ATTRIBUTES = "unix:mode,uid,gid,size,lastModifiedTime,isRegularFile,isDirectory,isSymbolicLink";
    private static final int PERMISSIONS = 07777;

    private final Path root;
    private final byte[] buffer = new byte[TarFormat.BUFFER];
    private final TarStats.Counter counter = new TarStats.Counter();

    private DirectoryTar(Path root) {
        this.root = root;
    }

    /** Writes the tree under {@code root} to {@code out} (not closed) and says what it holds. */
    public static TarStats write(Path root, OutputStream out) throws IOException {
        return new DirectoryTar(root).write(out);
    }

    private TarStats write(OutputStream out) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new DrException(Failure.SOURCE, "storage directory " + root + " does not exist or is not a directory");
        }
        TarArchiveOutputStream tar = TarFormat.writer(out);
        walk(root, "", tar);
        tar.finish();
        tar.close();
        TarStats stats = counter.stats();
        if (stats.skipped() > 0) {
            log.warn("{}: {} entries skipped (vanished while read, or sockets, fifos, devices); see the warnings above", root, stats.skipped());
        }
        return stats;
    }

    private void walk(Path dir, String prefix, TarArchiveOutputStream tar) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                names.add(p.getFileName().toString());
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            vanished(dir);
            return;
        } catch (AccessDeniedException e) {
            throw unreadable(dir);
        }
        String[] sorted = names.toArray(String[]::new);
        Arrays.sort(sorted);
        for (String name : sorted) {
            Path path = dir.resolve(name);
            String entryName = prefix + name;
            Map<String, Object> a;
            try {
                a = Files.readAttributes(path, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                vanished(path);
                continue;
            }
            int mode = (Integer) a.get("mode") & PERMISSIONS;
            FileTime mtime = FileTime.fromMillis(((FileTime) a.get("lastModifiedTime")).toMillis());
            if ((Boolean) a.get("isRegularFile")) {
                file(path, entryName, (Long) a.get("size"), mode, mtime, a, tar);
            } else if ((Boolean) a.get("isDirectory")) {
                TarArchiveEntry e = entry(entryName + "/", TarConstants.LF_DIR, 040000 | mode, mtime, a);
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
                counter.directories++;
                walk(path, entryName + "/", tar);
            } else if ((Boolean) a.get("isSymbolicLink")) {
                String target;
                try {
                    target = Files.readSymbolicLink(path).toString();
                } catch (NoSuchFileException e) {
                    vanished(path);
                    continue;
                }
                TarArchiveEntry e = entry(entryName, TarConstants.LF_SYMLINK, 0120000 | mode, mtime, a);
                e.setLinkName(target);
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
                counter.symlinks++;
            } else {
                log.warn("{}: skipped, a socket, fifo or device is no file to back up", path);
                counter.skipped++;
            }
        }
    }

    private void file(Path path, String entryName, long size, int mode, FileTime mtime, Map<String, Object> a,
                      TarArchiveOutputStream tar) throws IOException {
        InputStream in;
        try {
            in = Files.newInputStream(path);
        } catch (NoSuchFileException e) {
            vanished(path);
            return;
        } catch (AccessDeniedException e) {
            throw unreadable(path);
        }
        try (in) {
            TarArchiveEntry e = entry(entryName, TarConstants.LF_NORMAL, 0100000 | mode, mtime, a);
            e.setSize(size);
            tar.putArchiveEntry(e);
            long remaining = size;
            while (remaining > 0) {
                int n = read(in, path, (int) Math.min(buffer.length, remaining));
                if (n < 0) {
                    break;
                }
                tar.write(buffer, 0, n);
                remaining -= n;
            }
            if (remaining > 0) {
                log.warn("{}: shrank while read; stored as {} bytes with the missing {} as zeros", path, size, remaining);
                Arrays.fill(buffer, (byte) 0);
                while (remaining > 0) {
                    int n = (int) Math.min(buffer.length, remaining);
                    tar.write(buffer, 0, n);
                    remaining -= n;
                }
            } else if (read(in, path, 1) >= 0) {
                log.warn("{}: grew while read; stored the first {} bytes, its size when listed", path, size);
            }
            tar.closeArchiveEntry();
            counter.file(entryName, size);
        }
    }

    /** A failing read is the storage's failure (a bad disk, a stale NFS handle), not the repository's. */
    private int read(InputStream in, Path path, int length) throws IOException {
        try {
            return in.read(buffer, 0, length);
        } catch (AccessDeniedException e) {
            throw unreadable(path);
        } catch (IOException e) {
            throw new DrException(Failure.SOURCE, "reading " + path + " failed: " + e.getMessage(), e);
        }
    }

    private static TarArchiveEntry entry(String name, byte type, int mode, FileTime mtime, Map<String, Object> a) {
        // preserveAbsolutePath=true only stops the entry from rewriting names; ours are relative already
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        e.setMode(mode);
        e.setLastModifiedTime(mtime);
        e.setUserId(((Integer) a.get("uid")).longValue());
        e.setGroupId(((Integer) a.get("gid")).longValue());
        return e;
    }

    private void vanished(Path path) {
        String name = path.getFileName().toString();
        if (name.indexOf('\uFFFD') >= 0) {
            // Java decodes file names as UTF-8; a name in another encoding cannot be opened again by the name it read
            throw new DrException(Failure.SOURCE, path.getParent() + ": the file name '" + name + "' is not valid UTF-8, so it"
                    + " cannot be read; rename it to UTF-8 (e.g. convmv -f latin1 -t utf8 --notest) and run the backup again");
        }
        log.warn("{}: vanished while the storage was read; not in the backup", path);
        counter.skipped++;
    }

    private DrException unreadable(Path path) {
        String owner = "";
        try {
            Map<String, Object> a = Files.readAttributes(path, "unix:uid,gid", LinkOption.NOFOLLOW_LINKS);
            owner = " (owned by uid " + a.get("uid") + ", gid " + a.get("gid") + ")";
        } catch (IOException | RuntimeException ignored) {
            // the message without the owner is still the one to give
        }
        return new DrException(Failure.SOURCE, "cannot read " + path + owner + ": permission denied; run dify-dr as the "
                + "storage's user (the Dify container's uid) or give it the pod's fsGroup as a supplementary group");
    }
}
