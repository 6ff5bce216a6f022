package dev.difydr.store;

import java.io.InputStream;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Raw bytes under string keys ({@code a/b/c}, no leading slash). Implementations hold no meaning: the repository
 * gives keys their meaning. Contract (checked by the store contract tests):
 * <ul>
 *   <li>an object written through {@link #create} is visible only after {@link Upload#commit()}; an aborted or
 *       unclosed upload leaves nothing behind (no object, no temp file, no pending multipart upload);</li>
 *   <li>{@link #list} returns every committed object whose key starts with the given string (not only whole
 *       folder names), recursively, in key order;</li>
 *   <li>{@link #open} of a missing key throws {@link NoSuchObjectException}; a key that only prefixes other keys is
 *       not an object; deleting a missing key is not an error, also in a batch {@link #delete(Collection)}, which
 *       either removes every key or fails naming the keys it could not remove;</li>
 *   <li>{@link #pendingUploads} lists the uploads under a prefix that were started and neither committed nor aborted
 *       (a crashed writer's), with the time each began; {@link #abort(PendingUpload)} discards one;</li>
 *   <li>failures are {@link dev.difydr.DrException}s of class STORE that name the store and key.</li>
 * </ul>
 */
public interface ObjectStore extends AutoCloseable {

    /** Where this store points, for messages (no credentials). */
    String describe();

    /** Starts a streaming write of unknown length. */
    Upload create(String key);

    /** Writes a small object in one request. */
    default void put(String key, byte[] data) {
        try (Upload upload = create(key)) {
            upload.write(data);
            upload.commit();
        } catch (java.io.IOException e) {
            throw StoreErrors.failed(this, "write", key, e);
        }
    }

    InputStream open(String key);

    default byte[] read(String key) {
        try (InputStream in = open(key)) {
            return in.readAllBytes();
        } catch (java.io.IOException e) {
            throw StoreErrors.failed(this, "read", key, e);
        }
    }

    /** The size of an object, or empty if there is none under that key. */
    Optional<Long> size(String key);

    List<ObjectInfo> list(String prefix);

    void delete(String key);

    /** Deletes every key, in as few requests as the store allows; missing keys are not an error. */
    default void delete(Collection<String> keys) {
        for (String key : keys) {
            delete(key);
        }
    }

    /** Uploads under {@code prefix} that were started but neither committed nor aborted, oldest first. */
    List<PendingUpload> pendingUploads(String prefix);

    /** Discards an unfinished upload and what it holds; one already gone is not an error. */
    void abort(PendingUpload upload);

    /** Proves the store is reachable and writable enough to list; throws a STORE failure saying why not. */
    void check();

    @Override
    default void close() {
    }

    record ObjectInfo(String key, long size) {
    }

    /** An unfinished upload: the key it would create, the store's handle on it, and when it began (null if the store does not say). */
    record PendingUpload(String key, String uploadId, Instant started) {
    }
}
