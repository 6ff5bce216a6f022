package dev.difydr.source.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile archives, built with Commons Compress as an attacker would, never write outside the target directory: the
 * directory around the target stays exactly as it was, and the error names the offending entry. The pod filter
 * applies the same rules.
 */
class TarExtractorTest {
    @TempDir
    Path tmp;
    Path target;
    Path outside;
    Map<String, String> around;

    @BeforeEach
    void layout() throws IOException {
        Files.writeString(tmp.resolve("victim.txt"), "original");
        outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("passwd"), "root:x:0:0");
        target = Files.createDirectories(tmp.resolve("target"));
        around = withoutTarget();
    }

    /**
     * A GNU long name that really holds 150 MB: commons-compress would read it whole into the heap (the launcher's is
     * 160 MiB). The reader stops after about a megabyte of headers and names the place, and nothing is extracted.
     */
    @Test
    void aHugeLongNameIsRefusedAfterAMegabyteOfHeaders() throws IOException {
        long claimed = 150_000_000L;
        TarArchiveEntry longName = new TarArchiveEntry(TarConstants.GNU_LONGLINK, TarConstants.LF_GNUTYPE_LONGNAME);
        longName.setSize(claimed);
        byte[] header = new byte[512];
        longName.writeEntryHeader(header);
        long[] served = {0};
        java.io.InputStream names = new java.io.InputStream() {
            @Override
            public int read() {
                return served[0] < claimed ? (int) (served[0]++ % 26) + 'a' : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                int n = (int) Math.min(len, claimed - served[0]);
                if (n <= 0) {
                    return -1;
                }
                java.util.Arrays.fill(b, off, off + n, (byte) 'a');
                served[0] += n;
                return n;
            }
        };
        java.io.InputStream tar = new java.io.SequenceInputStream(new ByteArrayInputStream(header), names);

        DrException e = catchThrowableOfType(DrException.class, () -> TarExtractor.extract(tar, target, false));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("the headers of the first entry", "more than 1048576 bytes", "not written by dify-dr");
        assertThat(served[0]).as("bytes of the name read").isLessThan(2L << 20);
        assertThat(target).isEmptyDirectory();
    }

    @Test
    void absolutePath() {
        refused(tar(t -> file(t, tmp.resolve("victim.txt").toString(), "pwned")), tmp.resolve("victim.txt").toString(), "absolute path");
    }

    @Test
    void dotDot() {
        refused(tar(t -> file(t, "../x", "pwned")), "../x", "'..'");
    }

    @Test
    void dotDotInTheMiddle() {
        refused(tar(t -> {
            file(t, "a/ok.txt", "fine");
            file(t, "a/../../victim.txt", "pwned");
        }), "a/../../victim.txt", "'..'");
    }

    @Test
    void symlinkToAnAbsolutePath() {
        refused(tar(t -> link(t, "etc", outside.toString(), TarConstants.LF_SYMLINK)), "etc", "outside the target");
    }

    @Test
    void symlinkClimbingOut() {
        refused(tar(t -> link(t, "a/b/up", "../../../outside", TarConstants.LF_SYMLINK)), "a/b/up", "outside the target");
    }

    @Test
    void symlinkChainThroughADotLink() {
        // each link alone normalises inside ('d/..' reads as '.'), but on disk 'd/..' is the parent of what 'd' is
        refused(tar(t -> {
            link(t, "d", ".", TarConstants.LF_SYMLINK);
            link(t, "e", "d/..", TarConstants.LF_SYMLINK);
        }), "e", "'..' after a name");
        assertThat(target.resolve("e")).doesNotExist();
    }

    @Test
    void symlinkChainInTheReverseOrder() {
        refused(tar(t -> {
            link(t, "e", "d/..", TarConstants.LF_SYMLINK);
            link(t, "d", ".", TarConstants.LF_SYMLINK);
        }), "e", "'..' after a name");
        assertThat(target.resolve("e")).doesNotExist();
    }

    @Test
    void symlinkThroughASymlink() {
        refused(tar(t -> {
            dir(t, "b/");
            link(t, "b/c", "..", TarConstants.LF_SYMLINK);
            link(t, "a", "b/c/..", TarConstants.LF_SYMLINK);
        }), "a", "'..' after a name");
        refused(tar(t -> {
            dir(t, "b/");
            link(t, "b/c", "../..", TarConstants.LF_SYMLINK);
        }), "b/c", "outside the target");
        refused(tar(t -> link(t, "a", "./x/../../outside", TarConstants.LF_SYMLINK)), "a", "'..' after a name");
    }

    @Test
    void symlinkChainWithALinkAlreadyInTheTarget() throws IOException {
        Files.createSymbolicLink(target.resolve("d"), Path.of("."));
        around = withoutTarget();
        refused(tar(t -> link(t, "e", "d/..", TarConstants.LF_SYMLINK)), "e", "'..' after a name");
        assertThat(target.resolve("e")).doesNotExist();
    }

    @Test
    void symlinkLeadingOutThroughASymlinkAlreadyInTheTargetIsRemovedAgain() throws IOException {
        Files.createDirectories(target.resolve("sub"));
        Files.createSymbolicLink(target.resolve("sub/etc"), outside);
        around = withoutTarget();
        // 'y' names 'w' before the archive makes it, and 'w' leads to the link that was already there
        refused(tar(t -> {
            link(t, "y", "w/etc/passwd", TarConstants.LF_SYMLINK);
            link(t, "w", "sub", TarConstants.LF_SYMLINK);
            file(t, "kept.txt", "inside");
        }), "y", "through 'sub/etc': it is a symlink that leads outside");
        assertThat(target.resolve("y")).doesNotExist();
        assertThat(target.resolve("kept.txt")).hasContent("inside");
        assertThat(Files.isSymbolicLink(target.resolve("w"))).as("w leads inside").isTrue();
        assertThat(Files.readSymbolicLink(target.resolve("sub/etc"))).as("the directory's own link is kept").isEqualTo(outside);
        assertThat(Files.readString(outside.resolve("passwd"))).isEqualTo("root:x:0:0");
    }

    @Test
    void legitimateSymlinksStillWork() throws IOException {
        StorageRestore.Result r = extract(tar(t -> {
            file(t, "b/f.txt", "in b");
            file(t, "sub/file", "in sub");
            link(t, "a", "b", TarConstants.LF_SYMLINK);
            link(t, "x/y", "../b", TarConstants.LF_SYMLINK);
            link(t, "z", "sub/file", TarConstants.LF_SYMLINK);
            link(t, "s/up", "..", TarConstants.LF_SYMLINK);
            link(t, "t", "s/up/b/f.txt", TarConstants.LF_SYMLINK);
            link(t, "self", ".", TarConstants.LF_SYMLINK);
        }), false);
        assertThat(r.symlinks()).isEqualTo(6);
        assertThat(Files.readString(target.resolve("a/f.txt"))).isEqualTo("in b");
        assertThat(Files.readString(target.resolve("x/y/f.txt"))).isEqualTo("in b");
        assertThat(Files.readString(target.resolve("z"))).isEqualTo("in sub");
        assertThat(Files.readString(target.resolve("t"))).isEqualTo("in b");
        assertThat(target.resolve("self/b/f.txt")).hasContent("in b");
        assertThat(withoutTarget()).isEqualTo(around);
        // the same archive again: every link is found as the archive has it
        assertThat(extract(tar(t -> {
            link(t, "a", "b", TarConstants.LF_SYMLINK);
            link(t, "x/y", "../b", TarConstants.LF_SYMLINK);
        }), false).unchanged()).isEqualTo(2);
    }

    @Test
    void writeThroughASymlinkOfAnEarlierEntry() {
        // the link itself stays inside (it points at a sibling), but a later entry must not go through any symlink
        byte[] archive = tar(t -> {
            dir(t, "real/");
            link(t, "link", "real", TarConstants.LF_SYMLINK);
            file(t, "link/passwd", "pwned");
        });
        refused(archive, "link/passwd", "through the symlink 'link'");
    }

    @Test
    void writeThroughASymlinkAlreadyInTheTarget() throws IOException {
        Files.createSymbolicLink(target.resolve("etc"), outside);
        around = withoutTarget();
        refused(tar(t -> file(t, "etc/passwd", "pwned")), "etc/passwd", "through the symlink 'etc'");
        assertThat(Files.readString(outside.resolve("passwd"))).isEqualTo("root:x:0:0");
    }

    @Test
    void existingSymlinkAtAFileNameIsNotFollowed() throws IOException {
        Files.createSymbolicLink(target.resolve("victim"), tmp.resolve("victim.txt"));
        around = withoutTarget();
        StorageRestore.Result r = extract(tar(t -> file(t, "victim", "pwned")), false);
        assertThat(r.conflicts()).extracting(StorageRestore.Conflict::path).containsExactly("victim");
        assertThat(withoutTarget()).isEqualTo(around);
        // asked to overwrite, the link is replaced by the file; its target is untouched
        extract(tar(t -> file(t, "victim", "pwned")), true);
        assertThat(Files.isSymbolicLink(target.resolve("victim"))).isFalse();
        assertThat(withoutTarget()).isEqualTo(around);
    }

    @Test
    void hardLinkOutside() {
        refused(tar(t -> link(t, "hl", "../victim.txt", TarConstants.LF_LINK)), "hl", "'..'");
        refused(tar(t -> link(t, "hl", tmp.resolve("victim.txt").toString(), TarConstants.LF_LINK)), "hl", "absolute path");
    }

    @Test
    void devicesAndFifos() {
        refused(tar(t -> special(t, "dev/sda", TarConstants.LF_BLK)), "dev/sda", "device or fifo");
        refused(tar(t -> special(t, "pipe", TarConstants.LF_FIFO)), "pipe", "device or fifo");
    }

    @Test
    void theSameRulesGuardThePodFilter() {
        for (byte[] archive : new byte[][] {
            tar(t -> file(t, "../x", "pwned")),
            tar(t -> link(t, "etc", "/etc", TarConstants.LF_SYMLINK)),
            tar(t -> {
                dir(t, "real/");
                link(t, "link", "real", TarConstants.LF_SYMLINK);
                file(t, "link/passwd", "pwned");
            }),
            tar(t -> {
                link(t, "d", ".", TarConstants.LF_SYMLINK);
                link(t, "e", "d/..", TarConstants.LF_SYMLINK);
            }),
            tar(t -> {
                link(t, "e", "d/..", TarConstants.LF_SYMLINK);
                link(t, "d", ".", TarConstants.LF_SYMLINK);
            })}) {
            assertThat(podFilterRefusal(archive)).startsWith("refusing tar entry");
        }
    }

    @Test
    void thePodFilterRefusesHardLinksToAnythingButAnEarlierFile() {
        // GNU tar makes a hard link to a symlink a second symlink with the same text, read from the new place:
        // 'a/l -> ..' stays inside, 'h -> ..' would not
        assertThat(podFilterRefusal(tar(t -> {
            dir(t, "a/");
            link(t, "a/l", "..", TarConstants.LF_SYMLINK);
            link(t, "h", "a/l", TarConstants.LF_LINK);
            file(t, "h/passwd", "pwned");
        }))).contains("'h'").contains("no regular file earlier in the archive");
        assertThat(podFilterRefusal(tar(t -> link(t, "h", "elsewhere.txt", TarConstants.LF_LINK))))
                .contains("'h'").contains("no regular file earlier in the archive");
        // with --overwrite, GNU tar writes a file through a symlink of the same name
        assertThat(podFilterRefusal(tar(t -> {
            link(t, "l", "sub/f", TarConstants.LF_SYMLINK);
            file(t, "l", "through");
        }))).contains("'l'").contains("through the symlink 'l'");
        byte[] fine = tar(t -> {
            file(t, "a/f.txt", "hello");
            link(t, "h", "a/f.txt", TarConstants.LF_LINK);
            link(t, "h2", "./h", TarConstants.LF_LINK);
        });
        assertThat(podFilterRefusal(fine)).isNull();
    }

    /** The pod filter's refusal of {@code archive}, or null when it passes. */
    private static String podFilterRefusal(byte[] archive) {
        DrException e = catchThrowableOfType(DrException.class,
                () -> PodStorage.checkedCopy(new ByteArrayInputStream(archive), new ByteArrayOutputStream(), new TarStats.Counter()));
        return e == null ? null : e.getMessage();
    }

    @Test
    void aHarmlessArchiveIsExtractedAndExistingFilesAreKept() throws IOException {
        Files.writeString(target.resolve("kept.txt"), "mine");
        StorageRestore.Result r = extract(tar(t -> {
            file(t, "./a/b/c.txt", "hello");
            link(t, "a/link", "b/c.txt", TarConstants.LF_SYMLINK);
            link(t, "a/hard", "a/b/c.txt", TarConstants.LF_LINK);
            file(t, "kept.txt", "theirs");
        }), false);
        assertThat(Files.readString(target.resolve("a/b/c.txt"))).isEqualTo("hello");
        assertThat(Files.readString(target.resolve("a/link"))).isEqualTo("hello");
        assertThat(Files.isSameFile(target.resolve("a/hard"), target.resolve("a/b/c.txt"))).isTrue();
        assertThat(Files.readString(target.resolve("kept.txt"))).isEqualTo("mine");
        assertThat(r.conflicts()).extracting(StorageRestore.Conflict::path).containsExactly("kept.txt");
        assertThat(r.files()).isEqualTo(2);
        assertThat(r.symlinks()).isEqualTo(1);
        assertThat(withoutTarget()).isEqualTo(around);
    }

    private void refused(byte[] archive, String entry, String why) {
        DrException e = catchThrowableOfType(DrException.class, () -> extract(archive, true));
        assertThat(e).as("extraction should be refused").isNotNull();
        assertThat(e.failure()).isEqualTo(Failure.SOURCE);
        assertThat(e.getMessage()).contains("'" + entry + "'").contains(why);
        assertThat(withoutTarget()).as("nothing outside the target changed").isEqualTo(around);
    }

    private StorageRestore.Result extract(byte[] archive, boolean overwrite) {
        try {
            return TarExtractor.extract(new ByteArrayInputStream(archive), target, overwrite);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The snapshot of everything under tmp except the target directory's contents. */
    private Map<String, String> withoutTarget() {
        Map<String, String> all = new java.util.TreeMap<>(TreeSnapshot.of(tmp));
        all.keySet().removeIf(k -> k.startsWith("target/"));
        all.remove("target"); // its mtime changes whenever something is created inside it
        return all;
    }

    interface TarBody {
        void write(TarArchiveOutputStream t) throws IOException;
    }

    private static byte[] tar(TarBody body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name())) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            body.write(t);
            t.finish();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void file(TarArchiveOutputStream t, String name, String content) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
        e.setSize(data.length);
        e.setMode(0100644);
        t.putArchiveEntry(e);
        t.write(data);
        t.closeArchiveEntry();
    }

    private static void dir(TarArchiveOutputStream t, String name) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_DIR, true);
        e.setMode(040755);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }

    private static void link(TarArchiveOutputStream t, String name, String target, byte type) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        e.setLinkName(target);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }

    private static void special(TarArchiveOutputStream t, String name, byte type) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }
}
