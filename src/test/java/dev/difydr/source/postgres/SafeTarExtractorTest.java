package dev.difydr.source.postgres;

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
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTarExtractorTest {
    @TempDir
    Path tmp;

    private static byte[] tar(TarArchiveEntry... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            for (TarArchiveEntry e : entries) {
                byte[] content = e.isFile() ? ("content of " + e.getName()).getBytes(StandardCharsets.UTF_8) : new byte[0];
                if (e.isFile()) {
                    e.setSize(content.length);
                }
                out.putArchiveEntry(e);
                out.write(content);
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static TarArchiveEntry file(String name, int mode) {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(mode);
        return e;
    }

    private static TarArchiveEntry symlink(String name, String target) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
        e.setLinkName(target);
        return e;
    }

    @Test
    void extractsFilesDirectoriesAndInsideLinksWithTheirModes() throws IOException {
        Path root = tmp.resolve("data");
        Files.createDirectory(root);
        TarArchiveEntry dir = new TarArchiveEntry("base/");
        dir.setMode(0700);

        new SafeTarExtractor(root).extract(new ByteArrayInputStream(tar(file("PG_VERSION", 0600), dir,
                file("./base/1", 0600), symlink("latest", "base/1"))), "base.tar");

        assertThat(root.resolve("PG_VERSION")).hasContent("content of PG_VERSION");
        assertThat(Files.getPosixFilePermissions(root.resolve("PG_VERSION"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(root.resolve("base"))).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.readSymbolicLink(root.resolve("latest"))).isEqualTo(Path.of("base/1"));
    }

    @Test
    void refusesNamesAndLinksLeadingOutside() throws IOException {
        for (TarArchiveEntry evil : new TarArchiveEntry[] {file("../escape", 0600), file("a/../../escape", 0600),
                symlink("link", "../../etc"), symlink("abs", "/etc/passwd")}) {
            Path root = Files.createTempDirectory(tmp, "root");

            DrException e = catchThrowableOfType(DrException.class,
                    () -> new SafeTarExtractor(root).extract(new ByteArrayInputStream(tar(evil)), "evil.tar"));

            assertThat(e).as(evil.getName()).isNotNull();
            assertThat(e.failure()).isEqualTo(Failure.VERIFY);
            assertThat(e.getMessage()).startsWith("refusing to extract evil.tar: " + evil.getName());
            assertThat(tmp.resolve("escape")).doesNotExist();
        }
    }

    @Test
    void neverOverwritesAFile() throws IOException {
        Path root = tmp.resolve("data");
        Files.createDirectory(root);
        Files.writeString(root.resolve("PG_VERSION"), "mine");

        assertThat(catchThrowableOfType(java.nio.file.FileAlreadyExistsException.class,
                () -> new SafeTarExtractor(root).extract(new ByteArrayInputStream(tar(file("PG_VERSION", 0600))), "base.tar"))).isNotNull();
        assertThat(root.resolve("PG_VERSION")).hasContent("mine");
    }
}
