package dev.difydr.verify;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Checks a backup against its manifest: every artifact present with its recorded size, and with {@code readData}
 * every byte re-read, decompressed and re-hashed against both recorded SHA-256s.
 */
public final class VerifyRun {
    private final Repository repository;
    private final Function<String, Progress> progress;

    public VerifyRun(Repository repository, Function<String, Progress> progress) {
        this.repository = repository;
        this.progress = progress;
    }

    public VerifyResult run(String idOrLatest, boolean readData) {
        Manifest manifest = repository.resolve(idOrLatest);
        List<VerifyResult.Check> checks = new ArrayList<>();
        for (Artifact a : manifest.artifacts()) {
            checks.add(check(a, readData));
        }
        return new VerifyResult(manifest.id(), readData, checks);
    }

    private VerifyResult.Check check(Artifact a, boolean readData) {
        Optional<Long> size = repository.store().size(a.path());
        if (size.isEmpty()) {
            return VerifyResult.Check.failed(a, "missing: no object at " + a.path());
        }
        if (size.get() != a.storedBytes()) {
            return VerifyResult.Check.failed(a, "size differs: stored object has " + size.get() + " bytes, manifest records " + a.storedBytes());
        }
        if (!readData) {
            return VerifyResult.Check.ok(a, "present, " + a.storedBytes() + " bytes");
        }
        try (InputStream raw = repository.store().open(a.path()); Progress p = progress.apply("verify " + a.name())) {
            MessageDigest storedDigest = sha256();
            MessageDigest plainDigest = sha256();
            CountingInput counted = new CountingInput(new DigestInputStream(raw, storedDigest), p);
            long plainBytes = 0;
            String undecompressable = null;
            try (InputStream plain = new ZstdInputStreamNoFinalizer(counted)) {
                byte[] buf = new byte[1 << 20];
                int n;
                while ((n = plain.read(buf)) > 0) {
                    plainDigest.update(buf, 0, n);
                    plainBytes += n;
                }
            } catch (IOException e) {
                undecompressable = "cannot decompress: " + e.getMessage();
            }
            // The rest of the stored bytes are hashed even after a decompression error: a stored sha256 that differs
            // is the precise finding (the object changed after it was written).
            counted.transferTo(java.io.OutputStream.nullOutputStream());
            String storedSha = HexFormat.of().formatHex(storedDigest.digest());
            String plainSha = HexFormat.of().formatHex(plainDigest.digest());
            if (!storedSha.equals(a.sha256())) {
                return VerifyResult.Check.failed(a, "sha256 of stored bytes differs: read " + storedSha + ", manifest records " + a.sha256()
                        + (undecompressable == null ? "" : "; " + undecompressable));
            }
            if (undecompressable != null) {
                return VerifyResult.Check.failed(a, undecompressable + " (the object is corrupt)");
            }
            if (!plainSha.equals(a.plainSha256()) || plainBytes != a.plainBytes()) {
                return VerifyResult.Check.failed(a, "decompressed content differs: read " + plainBytes + " bytes with sha256 " + plainSha
                        + ", manifest records " + a.plainBytes() + " bytes with sha256 " + a.plainSha256());
            }
            return VerifyResult.Check.ok(a, "read " + a.storedBytes() + " bytes; both sha256 match");
        } catch (DrException e) {
            if (e.failure() == Failure.STORE) {
                throw e;
            }
            return VerifyResult.Check.failed(a, e.getMessage());
        } catch (IOException e) {
            throw new DrException(Failure.STORE, "reading " + a.path() + " from " + repository.store().describe() + " failed: " + e.getMessage(), e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class CountingInput extends FilterInputStream {
        private final Progress progress;

        CountingInput(InputStream in, Progress progress) {
            super(in);
            this.progress = progress;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                progress.advance(n);
            }
            return n;
        }

        @Override
        public void close() {
            // the caller closes the underlying stream
        }
    }
}
