package dev.difydr.pipeline;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import dev.difydr.config.CompressionConfig;
import dev.difydr.crypto.Keyring;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Turns a plain stream into stored bytes in one pass: SHA-256 of the plain bytes, zstd compression (a standard
 * frame, multi-threaded), encryption when asked (Tink streaming AEAD), SHA-256 of the stored bytes, written to the
 * given sink; {@link ArtifactReader} is the reverse. Memory is bounded by the read
 * buffer and zstd's window and worker buffers, whatever the stream's length. The sink is neither committed nor
 * closed: that is the caller's decision once the source has proved it ended cleanly.
 */
public final class ArtifactPipeline {
    private static final int BUFFER = 1 << 20;
    private final CompressionConfig compression;

    public ArtifactPipeline(CompressionConfig compression) {
        this.compression = compression;
    }

    public String compressionName() {
        return "zstd";
    }

    public Stored run(InputStream plain, OutputStream sink, Progress progress) throws IOException {
        try (PlainSink out = open(sink, progress, null)) {
            byte[] buffer = new byte[BUFFER];
            int n;
            while ((n = plain.readNBytes(buffer, 0, buffer.length)) > 0) {
                out.write(buffer, 0, n);
            }
            return out.finish();
        }
    }

    /**
     * The same pass for a source that writes rather than being read (a tar writer, a Redis stream): plain bytes
     * written to the returned stream are hashed, compressed and written to {@code sink}; {@link PlainSink#finish()}
     * ends the frame and says what was stored.
     */
    public PlainSink open(OutputStream sink, Progress progress, Encryption encryption) throws IOException {
        return new PlainSink(sink, progress, encryption);
    }

    /** The encryption stage: the compressed bytes encrypted under the keyring's primary key, bound to {@code associatedData}. */
    public record Encryption(Keyring keyring, byte[] associatedData) {
    }

    /** Plain bytes in; the stored bytes go to the sink given to {@link #open}. Closing without finishing ends nothing. */
    public final class PlainSink extends OutputStream {
        private final HashingOutputStream stored;
        private final MessageDigest plainDigest = HashingOutputStream.sha256();
        private final ZstdOutputStreamNoFinalizer zstd;
        private final Progress progress;
        private long plainBytes;
        private Stored finished;

        private PlainSink(OutputStream sink, Progress progress, Encryption encryption) throws IOException {
            this.stored = new HashingOutputStream(sink);
            this.progress = progress;
            int workers = compression.workers() == 0 ? Runtime.getRuntime().availableProcessors() : compression.workers();
            if (encryption != null) {
                GcmWarmUp.ensure();
            }
            // Closing zstd ends its frame and then, when encrypting, the last segment; never the sink.
            OutputStream compressed = encryption == null ? new NonClosing(stored)
                    : encryption.keyring().encrypt(new NonClosing(stored), encryption.associatedData());
            this.zstd = new ZstdOutputStreamNoFinalizer(compressed);
            zstd.setLevel(compression.level());
            zstd.setChecksum(true);
            if (workers > 1) {
                zstd.setWorkers(workers);
            }
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            plainDigest.update(b, off, len);
            zstd.write(b, off, len);
            plainBytes += len;
            progress.advance(len);
        }

        /** Ends the zstd frame and the encryption (flushing both to the sink) and returns the counts and hashes of both sides. */
        public Stored finish() throws IOException {
            if (finished == null) {
                zstd.close();
                finished = new Stored(plainBytes, stored.count(), HexFormat.of().formatHex(plainDigest.digest()), stored.hex(),
                        compressionName());
            }
            return finished;
        }

        /** Releases zstd's native buffers; the sink stays open either way. */
        @Override
        public void close() {
            if (finished == null) {
                try {
                    zstd.close();
                } catch (IOException e) {
                    // the sink is being abandoned (the caller aborts the upload); nothing to report
                }
            }
        }
    }

    /** Keeps zstd's close from closing the sink, which must stay open until the caller commits or aborts it. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
