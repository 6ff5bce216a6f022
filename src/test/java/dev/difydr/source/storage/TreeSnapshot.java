package dev.difydr.source.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Everything a restore must reproduce about a directory tree, one line per path relative to the root: type, permission
 * bits, mtime to the second (directories and files), symlink target, SHA-256 of the content. Two trees are equal when
 * their snapshots are.
 */
public final class TreeSnapshot {
    private TreeSnapshot() {
    }

    public static Map<String, String> of(Path root) {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (p.equals(root)) {
                    continue;
                }
                String rel = root.relativize(p).toString();
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,lastModifiedTime,isDirectory,isSymbolicLink,isRegularFile", LinkOption.NOFOLLOW_LINKS);
                String mode = Integer.toOctalString((Integer) a.get("mode") & 07777);
                long mtime = ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")).toInstant().getEpochSecond();
                if ((Boolean) a.get("isSymbolicLink")) {
                    out.put(rel, "symlink -> " + Files.readSymbolicLink(p));
                } else if ((Boolean) a.get("isDirectory")) {
                    out.put(rel, "dir " + mode + " " + mtime);
                } else if ((Boolean) a.get("isRegularFile")) {
                    out.put(rel, "file " + mode + " " + mtime + " " + Files.size(p) + " " + sha256(p));
                } else {
                    out.put(rel, "other");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256(in);
        }
    }

    public static String sha256(InputStream in) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
