package dev.difydr.pipeline;

import com.github.luben.zstd.ZstdIOException;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.crypto.Keyring;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.Repository;
import dev.difydr.store.ObjectStore;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Reads artifacts back, the one way every consumer does (verify, restore, drill, {@code decrypt}): the stored bytes
 * hashed, decrypted when the manifest says they are encrypted (under the key it names, bound to the deployment,
 * backup and path), decompressed, and checked against the manifest's counts and hashes.
 */
public final class ArtifactReader {
    private static final int BUFFER = 1 << 20;

    private final ObjectStore store;
    private final String deployment;
    private final Keyring keyring;

    public ArtifactReader(ObjectStore store, String deployment, Keyring keyring) {
        this.store = store;
        this.deployment = deployment;
        this.keyring = keyring;
    }

    public ArtifactReader(Repository repository) {
        this(repository.store(), repository.layout().deployment(), repository.keyring());
    }

    /**
     * Reads artifact {@code a} of backup {@code backupId} to its end into {@code plainSink}: see
     * {@link #reread(InputStream, String, Artifact, OutputStream, Progress, boolean)}.
     */
    public Reread reread(String backupId, Artifact a, OutputStream plainSink, Progress progress, boolean hashPlain) throws IOException {
        requireReadable(a);
        try (InputStream stored = store.open(a.path())) {
            return reread(stored, backupId, a, plainSink, progress, hashPlain);
        }
    }

    /**
     * The reverse of the pipeline over {@code stored}: reads it to its end on a read-ahead thread, which hashes the
     * stored bytes and decrypts them, and decompresses them into {@code plainSink}, hashing the plain bytes when
     * {@code hashPlain} (a restore may leave that out: matching stored bytes are exactly the plain bytes that were backed
     * up, and zstd checks its own content checksum). Bytes that do not decrypt or decompress are a finding
     * ({@link Reread#contentError()}), not an exception; a failure to read the stored bytes or to write the plain ones
     * is thrown.
     */
    public Reread reread(InputStream stored, String backupId, Artifact a, OutputStream plainSink, Progress progress, boolean hashPlain)
            throws IOException {
        requireReadable(a);
        StoredTap tap = new StoredTap(stored, progress);
        MessageDigest plainDigest = hashPlain ? HashingOutputStream.sha256() : null;
        long plainBytes = 0;
        String contentError = null;
        // Decryption runs on the read-ahead thread with the hashing of the stored bytes: this thread's core is left to
        // zstd, the plain hash and the sink.
        try (ReadAhead ahead = new ReadAhead(readAheadSource(tap, backupId, a))) {
            NonClosingInput in = new NonClosingInput(ahead);
            try (InputStream plain = new ZstdInputStreamNoFinalizer(in)) {
                byte[] buffer = new byte[BUFFER];
                int n;
                while ((n = plain.read(buffer)) > 0) {
                    if (plainDigest != null) {
                        plainDigest.update(buffer, 0, n);
                    }
                    plainBytes += n;
                    try {
                        plainSink.write(buffer, 0, n);
                    } catch (IOException e) {
                        throw new SinkFailure(e);
                    }
                }
            } catch (ReadAhead.Failed e) {
                throw e.getCause();
            } catch (SinkFailure e) {
                throw e.getCause();
            } catch (DecryptFailure e) {
                contentError = e.getMessage();
            } catch (IOException e) {
                contentError = "does not decompress: " + e.getMessage();
            }
            // The rest is hashed even after such an error: a changed stored sha256 is the more precise finding.
            in.drain();
        }
        return new Reread(tap.count, HexFormat.of().formatHex(tap.digest.digest()), plainBytes,
                plainDigest == null ? null : HexFormat.of().formatHex(plainDigest.digest()), contentError);
    }

    /**
     * What the read-ahead thread reads: the stored bytes through {@code tap}, decrypted when {@code a} is encrypted,
     * and in any case to their end, so that every stored byte is hashed even when decryption stops early.
     */
    private InputStream readAheadSource(StoredTap tap, String backupId, Artifact a) throws IOException {
        if (!a.encrypted()) {
            return tap;
        }
        return new ObservedInput(decrypted(tap, backupId, a)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n;
                try {
                    n = in.read(b, off, len);
                } catch (DecryptFailure e) {
                    if (tap.failure != null) {
                        throw tap.failure;  // not the bytes: reading them failed
                    }
                    tap.drain();
                    throw e;
                }
                if (n < 0) {
                    tap.drain();
                }
                return n;
            }
        };
    }

    /** The plain bytes of artifact {@code a}, for a consumer that reads a stream (a tar, an RDB); see {@link VerifiedPlainInput}. */
    public VerifiedPlainInput openPlain(String backupId, Artifact a, Progress progress) throws IOException {
        requireReadable(a);
        return VerifiedPlainInput.open(store.open(a.path()), in -> new ZstdInputStreamNoFinalizer(decrypted(in, backupId, a)), a, progress);
    }

    /** The plain bytes of {@code stored}, artifact {@code a} of backup {@code backupId}; for tests and for a stream already open. */
    public VerifiedPlainInput openPlain(InputStream stored, String backupId, Artifact a, Progress progress) throws IOException {
        requireReadable(a);
        return VerifiedPlainInput.open(stored, in -> new ZstdInputStreamNoFinalizer(decrypted(in, backupId, a)), a, progress);
    }

    /**
     * The compressed bytes of artifact {@code a}: decrypted when it is encrypted (a read fails on any change to the
     * ciphertext, including a cut at a segment boundary), the stored bytes otherwise. A standard zstd frame either way.
     */
    public InputStream openCompressed(String backupId, Artifact a) throws IOException {
        requireReadable(a);
        return decrypted(store.open(a.path()), backupId, a);
    }

    /** Refuses an artifact this reader cannot decrypt, naming it. */
    public void requireReadable(Artifact a) {
        if (!a.encrypted()) {
            return;
        }
        if (!Keyring.ALGORITHM.equals(a.encryption()) || a.keyId() == null) {
            throw new DrException(Failure.VERIFY, "artifact " + a.path() + " records encryption '" + a.encryption() + "' with key id "
                    + a.keyId() + "; this dify-dr reads only " + Keyring.ALGORITHM + " with a key id");
        }
        if (keyring == null) {
            throw new DrException(Failure.CONFIG, "artifact " + a.path() + " is encrypted (key " + a.keyId() + ") and no encryption.keyset"
                    + " is configured: give the keyset it was written with");
        }
        if (!keyring.has(a.keyId())) {
            throw new DrException(Failure.CONFIG, "artifact " + a.path() + " is encrypted under key " + a.keyId() + ", which the keyset"
                    + " lacks (keys " + keyring.ids() + "): give the keyset it was written with ('dify-dr keys list' shows which backups use which key)");
        }
    }

    private InputStream decrypted(InputStream stored, String backupId, Artifact a) throws IOException {
        if (!a.encrypted()) {
            return stored;
        }
        GcmWarmUp.ensure();
        InputStream plain = keyring.decrypt(stored, a.keyId(), Keyring.artifactContext(deployment, backupId, a.path()));
        return new FilterInputStream(plain) {
            @Override
            public int read() throws IOException {
                try {
                    return in.read();
                } catch (IOException e) {
                    throw failure(e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    return in.read(b, off, len);
                } catch (IOException e) {
                    throw failure(e);
                }
            }

            private IOException failure(IOException e) {
                if (e instanceof ReadAhead.Failed || e.getCause() instanceof ReadAhead.Failed) {
                    return e instanceof ReadAhead.Failed ? e : (IOException) e.getCause();
                }
                return new DecryptFailure("does not decrypt under key " + a.keyId() + " as part of backup " + backupId
                        + " (" + e.getMessage() + "): it was changed, cut short, or moved from another backup or path");
            }
        };
    }

    /** What {@link #reread} found: stored and plain byte counts and SHA-256s, and why decryption or decompression stopped, if it did. */
    public record Reread(long storedBytes, String storedSha256, long plainBytes, String plainSha256, String contentError) {

        /**
         * Throws a VERIFY failure naming the first way these bytes differ from what the manifest recorded for
         * {@code a} (a restore reads nothing further from a damaged artifact); the plain sha256 only when it was taken.
         */
        public void requireMatches(Artifact a) {
            String problem = contentError != null ? contentError
                    : !storedSha256.equals(a.sha256()) ? "stored sha256 is " + storedSha256 + ", manifest says " + a.sha256()
                    : plainSha256 != null && !plainSha256.equals(a.plainSha256()) ? "plain sha256 is " + plainSha256 + ", manifest says " + a.plainSha256()
                    : plainBytes != a.plainBytes() ? "decompresses to " + plainBytes + " bytes, manifest says " + a.plainBytes()
                    : null;
            if (problem != null) {
                throw new DrException(Failure.VERIFY, "artifact " + a.path() + " is damaged: " + problem + "; restore from another backup");
            }
        }
    }

    /** A ciphertext that does not authenticate: a finding about the bytes, like a frame that does not decompress. */
    static final class DecryptFailure extends IOException {
        DecryptFailure(String message) {
            super(message);
        }
    }

    /**
     * The stored bytes as the read-ahead thread reads them: counted, hashed and reported to the progress; a failure to
     * read them is thrown (and kept) as {@link ReadAhead.Failed}, so that it is never taken for bytes that do not decrypt.
     */
    private static final class StoredTap extends ObservedInput {
        final MessageDigest digest = HashingOutputStream.sha256();
        private final Progress progress;
        long count;
        ReadAhead.Failed failure;

        StoredTap(InputStream stored, Progress progress) {
            super(stored);
            this.progress = progress;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n;
            try {
                n = in.read(b, off, len);
            } catch (IOException e) {
                failure = new ReadAhead.Failed(e);
                throw failure;
            }
            if (n > 0) {
                digest.update(b, off, n);
                count += n;
                progress.advance(n);
            }
            return n;
        }

        /** Reads and hashes what is left. */
        void drain() throws IOException {
            transferTo(OutputStream.nullOutputStream());
        }
    }

    /**
     * Keeps zstd's close from stopping the read-ahead, which must go on to the end so that every stored byte is
     * hashed, even after a decompression error.
     */
    private static final class NonClosingInput extends FilterInputStream {
        NonClosingInput(InputStream in) {
            super(in);
        }

        void drain() throws IOException {
            try {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (ReadAhead.Failed e) {
                throw e.getCause();
            } catch (DecryptFailure e) {
                // after a decompression error: the first finding is the one reported
            }
        }

        @Override
        public void close() {
            // the read-ahead is closed by the caller
        }
    }

    /** Marks a failure to write plain bytes, which is not a decompression finding. */
    private static final class SinkFailure extends IOException {
        SinkFailure(IOException cause) {
            super(cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }
}
