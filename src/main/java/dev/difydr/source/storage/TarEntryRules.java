package dev.difydr.source.storage;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * The checks every tar entry passes before anything is written for it, shared by the local extractor and the filter
 * in front of a pod's {@code tar -x} (which would otherwise follow whatever the archive says). They are lexical: a
 * writer must still refuse to write through a symlink that exists on its side.
 */
final class TarEntryRules {
    private TarEntryRules() {
    }

    /**
     * The entry's path relative to the target, without {@code ./} and empty components; {@code ""} for the archive's
     * root ({@code ./}). Refuses absolute paths, {@code ..} components and kinds that are never restored.
     */
    static String relativeName(TarArchiveEntry entry) {
        String name = entry.getName();
        if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
            throw refused(name, "is a device or fifo, which a storage never holds");
        }
        if (!(entry.isFile() || entry.isDirectory() || entry.isSymbolicLink() || entry.isLink())) {
            throw refused(name, "has an unsupported entry type '" + (char) entryType(entry) + "'");
        }
        return normalized(name, name);
    }

    /**
     * A symlink's target, checked so that the link resolves inside the target directory whatever other links the
     * archive holds, in any order. Resolving the target lexically is not enough: with {@code d -> .} and
     * {@code e -> d/..}, {@code d/..} normalises to {@code .}, but on disk it goes through the link {@code d} and ends
     * in the target's parent. So {@code ..} may only lead the target ({@code ../x}, never {@code a/..}), and may climb
     * no higher than the target directory from the link's own directory. Every link of the archive then resolves
     * inside, by induction over the links a path goes through: the leading {@code ..} climb real directories (a link's
     * parents are directories, as writes through symlinks are refused), and the rest only descends, into directories
     * or into links that obey the same rule. Links already in the target directory are not the archive's to vouch for.
     */
    static void checkSymlink(String relativeName, String entryName, String linkTarget) {
        if (linkTarget.isEmpty() || linkTarget.startsWith("/")) {
            throw refused(entryName, "is a symlink to '" + printable(linkTarget) + "', outside the target directory");
        }
        int depth = components(relativeName).size() - 1; // directories between the target and the link
        boolean descending = false;
        for (String c : linkTarget.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (descending) {
                    throw refused(entryName, "is a symlink to '" + printable(linkTarget) + "', which has a '..' after a name: that name may"
                            + " itself be a symlink, through which '..' leads elsewhere than it reads, so only leading '..' (as in"
                            + " '../x') are accepted");
                }
                if (depth == 0) {
                    throw refused(entryName, "is a symlink to '" + printable(linkTarget) + "', outside the target directory");
                }
                depth--;
            } else {
                descending = true;
            }
        }
    }

    /** A hard link's target: an archive path like any entry name, so the same rules. */
    static String hardLinkTarget(String entryName, String linkTarget) {
        String target = normalized(linkTarget, entryName);
        if (target.isEmpty()) {
            throw refused(entryName, "is a hard link to the target directory itself");
        }
        return target;
    }

    static List<String> components(String relativeName) {
        return relativeName.isEmpty() ? List.of() : List.of(relativeName.split("/"));
    }

    static DrException refused(String entryName, String why) {
        return new DrException(Failure.SOURCE, "refusing tar entry '" + printable(entryName) + "': it " + why
                + "; the archive is damaged or was not written by dify-dr, nothing outside the target was written");
    }

    private static String normalized(String name, String entryName) {
        if (name.startsWith("/")) {
            throw refused(entryName, "has an absolute path");
        }
        if (name.indexOf('\0') >= 0) {
            throw refused(entryName, "has a NUL byte in its path");
        }
        StringBuilder out = new StringBuilder();
        for (String c : name.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                throw refused(entryName, "has a '..' component" + (name.equals(entryName) ? "" : " in its link target '" + name + "'"));
            }
            if (out.length() > 0) {
                out.append('/');
            }
            out.append(c);
        }
        return out.toString();
    }

    private static byte entryType(TarArchiveEntry e) {
        // TarArchiveEntry keeps the type flag private; these are the kinds it can tell apart
        return e.isGNUSparse() ? (byte) 'S' : e.isGlobalPaxHeader() ? (byte) 'g' : (byte) '?';
    }

    /** Entry names can hold newlines and control characters; messages show them escaped. */
    static String printable(String name) {
        StringBuilder sb = new StringBuilder();
        for (char ch : name.toCharArray()) {
            if (ch < 0x20 || ch == 0x7f) {
                sb.append(String.format("\\x%02x", (int) ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }
}
