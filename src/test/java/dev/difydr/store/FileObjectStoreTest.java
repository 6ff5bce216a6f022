package dev.difydr.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.store.file.FileObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileObjectStoreTest extends ObjectStoreContract {
    @TempDir
    Path root;

    @Override
    protected ObjectStore newStore() {
        return new FileObjectStore(root.resolve("repo"));
    }

    /** Every regular file under the root must be a committed object: no temp file survives an abort. */
    @Override
    protected void assertNoPendingUploads() throws IOException {
        List<String> files;
        try (Stream<Path> walk = Files.exists(root) ? Files.walk(root) : Stream.empty()) {
            files = walk.filter(Files::isRegularFile).map(p -> root.resolve("repo").relativize(p).toString()).sorted().toList();
        }
        assertThat(files).containsExactlyElementsOf(store.list("").stream().map(ObjectStore.ObjectInfo::key).toList());
    }

    @Test
    void tempFileOfAnUploadInProgressIsNotListed() throws IOException {
        try (Upload upload = store.create("dir/object")) {
            upload.write(bytes(3 << 20));
            try (Stream<Path> walk = Files.walk(root)) {
                assertThat(walk.filter(Files::isRegularFile).count()).as("temp file on disk").isEqualTo(1);
            }
            assertThat(store.list("")).isEmpty();
            assertThat(store.list("dir/")).isEmpty();
        }
        assertNoPendingUploads();
    }

    @Test
    void keyEscapingTheRootIsRefused() {
        assertThatThrownBy(() -> store.put("../outside", bytes(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(Files.exists(root.resolve("outside"))).isFalse();
    }

    /** Like a bucket, the store keeps no empty folders: deleting the last object of a directory removes it, not the root. */
    @Test
    void deletingTheLastObjectsOfADirectoryRemovesIt() throws IOException {
        store.put("a/b/c/one", bytes(1));
        store.put("a/b/two", bytes(1));
        store.delete("a/b/c/one");
        assertThat(root.resolve("repo/a/b/c")).doesNotExist();
        assertThat(root.resolve("repo/a/b/two")).exists();
        store.delete("a/b/two");
        assertThat(root.resolve("repo/a")).doesNotExist();
        assertThat(root.resolve("repo")).isDirectory();
        store.put("a/b/c/one", bytes(1));
        assertThat(store.list("a/")).extracting(ObjectStore.ObjectInfo::key).containsExactly("a/b/c/one");
    }

    /** A backup holds every tenant's private key: nobody but the owner reads a local repository, not even mid-upload. */
    @Test
    void objectsDirectoriesAndTempFilesAreTheOwnersOnly() throws IOException {
        store.check();
        try (Upload upload = store.create("dify/backups/x/postgres/dify.dump.zst")) {
            upload.write(bytes(10));
            try (Stream<Path> walk = Files.walk(root.resolve("repo"))) {
                Path temp = walk.filter(Files::isRegularFile).findFirst().orElseThrow();
                assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(temp))).isEqualTo("rw-------");
            }
            upload.commit();
        }
        Path object = root.resolve("repo/dify/backups/x/postgres/dify.dump.zst");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(object))).isEqualTo("rw-------");
        for (Path dir = object.getParent(); !dir.equals(root); dir = dir.getParent()) {
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).as(dir.toString()).isEqualTo("rwx------");
        }
    }
}
