package dev.difydr.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.Failure;
import dev.difydr.store.ObjectStore.ObjectInfo;
import dev.difydr.store.ObjectStore.PendingUpload;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link ObjectStore} contract, run against every store. A subclass supplies a fresh, empty store per test and,
 * where the store has such a thing, a check that no half-finished upload is left on the server.
 */
public abstract class ObjectStoreContract {
    /** Larger than four 5 MiB parts, and not a multiple of any part size. */
    protected static final int LARGE = 23 * (1 << 20) + 12_345;

    protected ObjectStore store;

    /** A store with no objects in it, used by one test and then closed. */
    protected abstract ObjectStore newStore() throws Exception;

    /** Fails if the store left anything of an unfinished upload behind (temp files, pending multipart uploads). */
    protected void assertNoPendingUploads() throws Exception {
    }

    @BeforeEach
    void openStore() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void smallObjectRoundTrips() {
        byte[] data = "hello, dify".getBytes(UTF_8);
        store.put("small/hello.txt", data);

        assertThat(store.read("small/hello.txt")).isEqualTo(data);
        assertThat(store.size("small/hello.txt")).contains((long) data.length);
        assertThat(store.list("small/")).containsExactly(new ObjectInfo("small/hello.txt", data.length));
    }

    @Test
    void streamOfUnknownLengthLargerThanSeveralPartsRoundTrips() throws Exception {
        MessageDigest written = sha256();
        SplittableRandom random = new SplittableRandom(42);
        try (Upload upload = store.create("large/stream.bin")) {
            byte[] chunk = new byte[200_003];
            int[] sizes = {1, 7919, 65_537, 131_071, 200_003, 3};
            int left = LARGE;
            for (int i = 0; left > 0; i++) {
                int n = Math.min(left, sizes[i % sizes.length]);
                random.nextBytes(chunk);
                upload.write(chunk, 0, n);
                written.update(chunk, 0, n);
                left -= n;
            }
            upload.write(0x5a);
            written.update((byte) 0x5a);
            upload.commit();
        }

        MessageDigest read = sha256();
        long count = 0;
        try (InputStream in = store.open("large/stream.bin")) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                read.update(buf, 0, n);
                count += n;
            }
        }
        assertThat(count).isEqualTo(LARGE + 1L);
        assertThat(hex(read)).isEqualTo(hex(written));
        assertThat(store.size("large/stream.bin")).contains(LARGE + 1L);
        assertThat(store.list("large/")).containsExactly(new ObjectInfo("large/stream.bin", LARGE + 1L));
        assertNoPendingUploads();
    }

    @Test
    void emptyObjectsExist() throws IOException {
        store.put("empty/put", new byte[0]);
        try (Upload upload = store.create("empty/stream")) {
            upload.commit();
        }

        assertThat(store.read("empty/put")).isEmpty();
        assertThat(store.read("empty/stream")).isEmpty();
        assertThat(store.size("empty/stream")).contains(0L);
        assertThat(store.list("empty/")).containsExactly(new ObjectInfo("empty/put", 0), new ObjectInfo("empty/stream", 0));
    }

    @Test
    void listIsRecursiveSortedAndLimitedToThePrefix() {
        store.put("list/b/2", bytes(2));
        store.put("list/a/deep/er/3", bytes(3));
        store.put("list/a1", bytes(11));
        store.put("list/c", bytes(0));
        store.put("list/a/1", bytes(1));
        store.put("other/a/1", bytes(5));
        store.put("lister", bytes(4));

        assertThat(store.list("list/")).containsExactly(
                new ObjectInfo("list/a/1", 1),
                new ObjectInfo("list/a/deep/er/3", 3),
                new ObjectInfo("list/a1", 11),
                new ObjectInfo("list/b/2", 2),
                new ObjectInfo("list/c", 0));
        assertThat(store.list("list/a/")).containsExactly(new ObjectInfo("list/a/1", 1), new ObjectInfo("list/a/deep/er/3", 3));
        // a prefix is a prefix of the key, not a directory name
        assertThat(store.list("list/a")).extracting(ObjectInfo::key)
                .containsExactly("list/a/1", "list/a/deep/er/3", "list/a1");
        assertThat(store.list("nothing/")).isEmpty();
        assertThat(store.list("")).extracting(ObjectInfo::key).containsExactly(
                "list/a/1", "list/a/deep/er/3", "list/a1", "list/b/2", "list/c", "lister", "other/a/1");
    }

    @Test
    void missingObjects() {
        assertThat(store.size("missing/key")).isEmpty();
        assertThat(store.size("missing")).isEmpty();

        assertThatThrownBy(() -> store.open("missing/key"))
                .isInstanceOf(NoSuchObjectException.class)
                .hasMessageContaining("missing/key")
                .satisfies(e -> assertThat(((NoSuchObjectException) e).failure()).isEqualTo(Failure.STORE));
        assertThatThrownBy(() -> store.read("missing/key")).isInstanceOf(NoSuchObjectException.class);
    }

    @Test
    void aPrefixOfOtherKeysIsNotAnObject() {
        store.put("dir/sub/object", bytes(1));

        assertThat(store.size("dir/sub")).isEmpty();
        assertThat(store.size("dir")).isEmpty();
        assertThatThrownBy(() -> store.open("dir/sub")).isInstanceOf(NoSuchObjectException.class);
        assertThatThrownBy(() -> store.read("dir")).isInstanceOf(NoSuchObjectException.class);
    }

    @Test
    void objectIsInvisibleUntilCommitted() throws IOException {
        try (Upload upload = store.create("pending/object")) {
            upload.write(bytes(1000));
            assertThat(store.size("pending/object")).isEmpty();
            assertThat(store.list("")).isEmpty();
            upload.commit();
        }
        assertThat(store.read("pending/object")).isEqualTo(bytes(1000));
    }

    @Test
    void abortedUploadLeavesNothing() throws Exception {
        byte[] big = bytes(6 << 20);
        Upload upload = store.create("aborted/explicit");
        upload.write(big);
        upload.write(big);
        upload.abort();
        upload.abort();

        assertThat(store.size("aborted/explicit")).isEmpty();
        assertThat(store.list("")).isEmpty();
        assertThatThrownBy(() -> store.open("aborted/explicit")).isInstanceOf(NoSuchObjectException.class);
        assertThatThrownBy(upload::commit).isInstanceOf(IllegalStateException.class);
        assertNoPendingUploads();
    }

    @Test
    void uploadClosedWithoutCommitLeavesNothing() throws Exception {
        assertThatThrownBy(() -> {
            try (Upload upload = store.create("aborted/closed")) {
                upload.write(bytes(12 << 20));
                throw new IOException("the source failed");
            }
        }).hasMessage("the source failed");
        try (Upload upload = store.create("aborted/small")) {
            upload.write(bytes(10));
        }

        assertThat(store.list("")).isEmpty();
        assertThat(store.size("aborted/closed")).isEmpty();
        assertThat(store.size("aborted/small")).isEmpty();
        assertNoPendingUploads();
    }

    @Test
    void abortedOverwriteKeepsThePreviousObject() throws Exception {
        store.put("keep/object", bytes(100));
        try (Upload upload = store.create("keep/object")) {
            upload.write(bytes(7 << 20));
        }

        assertThat(store.read("keep/object")).isEqualTo(bytes(100));
        assertThat(store.list("")).containsExactly(new ObjectInfo("keep/object", 100));
        assertNoPendingUploads();
    }

    @Test
    void overwriteReplaces() throws IOException {
        store.put("over/write", bytes(7 << 20));
        store.put("over/write", "second".getBytes(UTF_8));
        assertThat(store.read("over/write")).asString(UTF_8).isEqualTo("second");

        try (Upload upload = store.create("over/write")) {
            upload.write(bytes(11 << 20));
            upload.commit();
        }
        assertThat(store.read("over/write")).isEqualTo(bytes(11 << 20));
        assertThat(store.list("over/")).containsExactly(new ObjectInfo("over/write", 11 << 20));
    }

    @Test
    void deleteRemovesOnlyThatObject() {
        store.put("del/one", bytes(1));
        store.put("del/two", bytes(2));

        store.delete("del/one");

        assertThat(store.size("del/one")).isEmpty();
        assertThatThrownBy(() -> store.open("del/one")).isInstanceOf(NoSuchObjectException.class);
        assertThat(store.list("del/")).containsExactly(new ObjectInfo("del/two", 2));
        // deleting what is not there is not an error (retention and cleanup may run twice)
        store.delete("del/one");
        store.delete("never/existed");
        assertThat(store.list("")).containsExactly(new ObjectInfo("del/two", 2));
    }

    @Test
    void batchDeleteRemovesEveryKeyOverSeveralRequests() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 1003; i++) {
            keys.add(String.format("batch/%04d", i));
        }
        keys.forEach(k -> store.put(k, bytes(1)));
        store.put("batch/kept", bytes(2));
        store.put("batch/数据/备份 1", bytes(3));
        List<String> doomed = new ArrayList<>(keys);
        doomed.add("batch/数据/备份 1");
        doomed.add("batch/never-existed");

        store.delete(doomed);

        assertThat(store.list("batch/")).containsExactly(new ObjectInfo("batch/kept", 2));
        store.delete(List.of("batch/0001", "batch/0002"));
        store.delete(List.of());
        assertThat(store.list("")).containsExactly(new ObjectInfo("batch/kept", 2));
    }

    @Test
    void pendingUploadsAreListedWithTheirStartAndCanBeAborted() throws Exception {
        Instant before = Instant.now().minusSeconds(5);
        Upload upload = store.create("pending/big.bin");
        try {
            // more than one 5 MiB part, so that a multipart store has started its upload
            upload.write(bytes(6 << 20));
            List<PendingUpload> pending = store.pendingUploads("pending/");
            assertThat(pending).extracting(PendingUpload::key).containsExactly("pending/big.bin");
            assertThat(pending.get(0).started()).isBetween(before, Instant.now().plusSeconds(5));
            assertThat(store.pendingUploads("other/")).isEmpty();
            assertThat(store.list("")).isEmpty();

            store.abort(pending.get(0));

            assertThat(store.pendingUploads("")).isEmpty();
            assertThatThrownBy(upload::commit).isInstanceOf(IOException.class);
            assertThat(store.size("pending/big.bin")).isEmpty();
            store.abort(pending.get(0));
        } finally {
            upload.close();
        }
        assertNoPendingUploads();
    }

    @Test
    void keysWithNonAsciiCharacters() {
        List<String> keys = List.of("unicode/数据库/备份.dump", "unicode/Ärger ü é.txt", "unicode/ключ+знак=1", "unicode/emoji-😀");
        for (String key : keys) {
            store.put(key, key.getBytes(UTF_8));
        }

        for (String key : keys) {
            assertThat(store.read(key)).asString(UTF_8).isEqualTo(key);
            assertThat(store.size(key)).contains((long) key.getBytes(UTF_8).length);
        }
        assertThat(store.list("unicode/")).extracting(ObjectInfo::key).containsExactlyElementsOf(keys.stream().sorted().toList());
        assertThat(store.list("unicode/数据库/")).extracting(ObjectInfo::key).containsExactly("unicode/数据库/备份.dump");
        store.delete("unicode/emoji-😀");
        assertThat(store.size("unicode/emoji-😀")).isEmpty();
    }

    @Test
    void checkPassesOnAReachableStore() {
        store.check();
    }

    /** Deterministic, incompressible-looking bytes: the same n gives the same content. */
    protected static byte[] bytes(int n) {
        byte[] b = new byte[n];
        new SplittableRandom(n).nextBytes(b);
        return b;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }
}
