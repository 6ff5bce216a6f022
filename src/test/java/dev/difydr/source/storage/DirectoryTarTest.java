package dev.difydr.source.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.DrException;
import dev.difydr.Failure;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A storage that changes while it is read still gives a complete, readable tar, and says what it left out. */
class DirectoryTarTest {
    @TempDir
    Path tmp;

    @Test
    void aFileDeletedWhileTheTarIsWrittenIsSkippedAndCounted() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("storage"));
        byte[] big = new byte[3 << 20];
        new Random(1).nextBytes(big);
        Files.write(root.resolve("a-big.bin"), big); // sorted first: its bytes reach the stream before b is looked at
        Files.writeString(root.resolve("b-vanishes.txt"), "gone before it is read");
        Files.writeString(root.resolve("c-stays.txt"), "still here");
        Files.createDirectories(root.resolve("d-dir-vanishes/sub"));
        Files.writeString(root.resolve("d-dir-vanishes/sub/x"), "x");

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OutputStream deletingOnFirstWrite = new OutputStream() {
            boolean deleted;

            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                if (!deleted) {
                    deleted = true;
                    try {
                        Files.delete(root.resolve("b-vanishes.txt"));
                        Files.delete(root.resolve("d-dir-vanishes/sub/x"));
                        Files.delete(root.resolve("d-dir-vanishes/sub"));
                        Files.delete(root.resolve("d-dir-vanishes"));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                bytes.write(b, off, len);
            }
        };
        TarStats stats = DirectoryTar.write(root, deletingOnFirstWrite);

        assertThat(stats.skipped()).isEqualTo(2);
        assertThat(stats.files()).isEqualTo(2);
        assertThat(stats.bytes()).isEqualTo(big.length + "still here".length());
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                names.add(e.getName());
                if (e.getName().equals("c-stays.txt")) {
                    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("still here");
                }
            }
        }
        assertThat(names).containsExactly("a-big.bin", "c-stays.txt");
    }

    @Test
    void fifosAreSkippedAndPrivkeysCounted() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("storage"));
        Files.createDirectories(root.resolve("privkeys/t1"));
        Files.writeString(root.resolve("privkeys/t1/private.pem"), "key");
        Files.createDirectories(root.resolve("privkeys/t2/private.pem")); // a directory by that name is no key
        Process mkfifo = new ProcessBuilder("mkfifo", root.resolve("pipe").toString()).inheritIO().start();
        assertThat(mkfifo.waitFor()).isZero();

        TarStats stats = DirectoryTar.write(root, OutputStream.nullOutputStream());

        assertThat(stats.skipped()).isEqualTo(1);
        assertThat(stats.tenantsWithPrivkeys()).isEqualTo(1);
        assertThat(stats.directories()).isEqualTo(4);
    }

    @Test
    void aFileNameThatIsNotUtf8FailsLoudlyInsteadOfBeingSkipped() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("storage"));
        Files.writeString(root.resolve("ok.txt"), "fine");
        // Java cannot create such a name itself: it encodes every name as UTF-8
        Process touch = new ProcessBuilder("bash", "-c", "touch \"$1/$(printf 'latin1-r\\xe9sum\\xe9.txt')\"", "touch", root.toString())
                .inheritIO().start();
        assertThat(touch.waitFor()).isZero();

        assertThatThrownBy(() -> DirectoryTar.write(root, OutputStream.nullOutputStream()))
                .isInstanceOfSatisfying(DrException.class, e -> {
                    assertThat(e.failure()).isEqualTo(Failure.SOURCE);
                    assertThat(e.getMessage()).contains(root.toString(), "is not valid UTF-8", "rename it");
                });
    }
}
