package dev.difydr.pipeline;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.repository.Artifact;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.util.HexFormat;
import org.apache.commons.io.input.BoundedInputStream;

/**
 * The plain bytes of a stored artifact, for a restore that consumes a stream (a tar, an RDB). The stored bytes are
 * hashed as they are read; at the end of the stream their SHA-256 and the plain length are compared with the
 * manifest's, and a difference is thrown as a VERIFY failure from the read that reached the end, so that a consumer
 * never finishes successfully on damaged data. zstd checks its own content checksum on the way.
 */
public final class VerifiedPlainInput extends ObservedInput {
    private final Artifact artifact;
    private final DigestInputStream stored;
    private final BoundedInputStream storedCount;
    private final Progress progress;
    private long plainBytes;
    private boolean checked;

    private VerifiedPlainInput(InputStream plain, DigestInputStream stored, BoundedInputStream storedCount, Artifact artifact,
                               Progress progress) {
        super(plain);
        this.stored = stored;
        this.storedCount = storedCount;
        this.artifact = artifact;
        this.progress = progress;
    }

    /** How the stored bytes become plain ones: decrypted when they are encrypted, then decompressed. */
    @FunctionalInterface
    interface Decoder {
        InputStream plain(InputStream stored) throws IOException;
    }

    static VerifiedPlainInput open(InputStream storedBytes, Decoder decoder, Artifact artifact, Progress progress) throws IOException {
        BoundedInputStream count = BoundedInputStream.builder().setInputStream(storedBytes).get();
        DigestInputStream stored = new DigestInputStream(count, HashingOutputStream.sha256());
        return new VerifiedPlainInput(decoder.plain(stored), stored, count, artifact, progress);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
            n = in.read(b, off, len);
        } catch (ArtifactReader.DecryptFailure e) {
            throw new DrException(Failure.VERIFY, "artifact " + artifact.path() + " " + e.getMessage()
                    + "; run 'dify-dr verify --read-data' and restore another backup", e);
        } catch (com.github.luben.zstd.ZstdIOException e) {
            throw new DrException(Failure.VERIFY, "artifact " + artifact.path() + " does not decompress (" + e.getMessage()
                    + "): the stored object is damaged; run 'dify-dr verify --read-data' and restore another backup", e);
        }
        if (n < 0) {
            check();
            return -1;
        }
        plainBytes += n;
        progress.advance(n);
        return n;
    }

    private void check() throws IOException {
        if (checked) {
            return;
        }
        checked = true;
        stored.transferTo(OutputStream.nullOutputStream());
        new ArtifactReader.Reread(storedCount.getCount(), HexFormat.of().formatHex(stored.getMessageDigest().digest()), plainBytes,
                null, null).requireMatches(artifact);
    }

    /** Reads what is left (a consumer may stop at its own end marker) so that the whole artifact is checked. */
    public void readToEnd() throws IOException {
        transferTo(OutputStream.nullOutputStream());
    }
}
