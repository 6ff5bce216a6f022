package dev.difydr.pipeline;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.CompressionConfig;
import dev.difydr.repository.Artifact;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Turns a plain stream into stored bytes in one pass: SHA-256 of the plain bytes, zstd compression (a standard
 * frame, multi-threaded), SHA-256 of the compressed bytes, written to the given sink. Memory is bounded by the read
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
        try (PlainSink out = open(sink, progress)) {
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
    public PlainSink open(OutputStream sink, Progress progress) throws IOException {
        return new PlainSink(sink, progress);
    }

    /** Plain bytes in; the stored bytes go to the sink given to {@link #open}. Closing without finishing ends nothing. */
    public final class PlainSink extends OutputStream {
        private final HashingOutputStream stored;
        private final MessageDigest plainDigest = HashingOutputStream.sha256();
        private final ZstdOutputStreamNoFinalizer zstd;
        private final Progress progress;
        private long plainBytes;
        private Stored finished;

        private PlainSink(OutputStream sink, Progress progress) throws IOException {
            this.stored = new HashingOutputStream(sink);
            this.progress = progress;
            int workers = compression.workers() == 0 ? Runtime.getRuntime().availableProcessors() : compression.workers();
            this.zstd = new ZstdOutputStreamNoFinalizer(new NonClosing(stored));
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

        /** Ends the zstd frame (flushing it to the sink) and returns the counts and hashes of both sides. */
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

    /** The reverse pass for verification: {@link #reread(InputStream, OutputStream, Progress, boolean)}, plain bytes discarded. */
    public static Reread reread(InputStream stored, Progress progress) throws IOException {
        return reread(stored, OutputStream.nullOutputStream(), progress, true);
    }

    /**
     * The reverse pass: reads stored bytes to their end, hashing them on a read-ahead thread, and decompresses them
     * into {@code plainSink}, hashing the plain bytes when {@code hashPlain} (a restore may leave that out: matching
     * stored bytes decompress to exactly the plain bytes that were backed up, and zstd checks its own content
     * checksum). A stream that does not decompress is a finding ({@link Reread#decompressError()}), not an exception;
     * a failure to read the stored bytes or to write the plain ones is thrown.
     */
    public static Reread reread(InputStream stored, OutputStream plainSink, Progress progress, boolean hashPlain) throws IOException {
        MessageDigest storedDigest = HashingOutputStream.sha256();
        long[] storedBytes = {0};
        MessageDigest plainDigest = hashPlain ? HashingOutputStream.sha256() : null;
        long plainBytes = 0;
        String decompressError = null;
        try (ReadAhead ahead = new ReadAhead(stored, (chunk, n) -> {
            storedDigest.update(chunk, 0, n);
            storedBytes[0] += n;
            progress.advance(n);
        })) {
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
            } catch (IOException e) {
                decompressError = e.getMessage();
            }
            // The rest is hashed even after a decompression error: a changed stored sha256 is the more precise finding.
            in.drain();
        }
        return new Reread(storedBytes[0], HexFormat.of().formatHex(storedDigest.digest()), plainBytes,
                plainDigest == null ? null : HexFormat.of().formatHex(plainDigest.digest()), decompressError);
    }

    /** What {@link #reread} found: stored and plain byte counts and SHA-256s, and why decompression stopped, if it did. */
    public record Reread(long storedBytes, String storedSha256, long plainBytes, String plainSha256, String decompressError) {

        /**
         * Throws a VERIFY failure naming the first way these bytes differ from what the manifest recorded for
         * {@code a} (a restore reads nothing further from a damaged artifact); the plain sha256 only when it was taken.
         */
        public void requireMatches(Artifact a) {
            String problem = decompressError != null ? "does not decompress: " + decompressError
                    : !storedSha256.equals(a.sha256()) ? "stored sha256 is " + storedSha256 + ", manifest says " + a.sha256()
                    : plainSha256 != null && !plainSha256.equals(a.plainSha256()) ? "plain sha256 is " + plainSha256 + ", manifest says " + a.plainSha256()
                    : plainBytes != a.plainBytes() ? "decompresses to " + plainBytes + " bytes, manifest says " + a.plainBytes()
                    : null;
            if (problem != null) {
                throw new DrException(Failure.VERIFY, "artifact " + a.path() + " is damaged: " + problem + "; restore from another backup");
            }
        }
    }

    /**
     * Keeps zstd's close from stopping the read-ahead, which must go on to the end so that every stored byte is
     * hashed, even after a decompression error.
     */
    private static final class NonClosingInput extends java.io.FilterInputStream {
        NonClosingInput(InputStream in) {
            super(in);
        }

        void drain() throws IOException {
            try {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (ReadAhead.Failed e) {
                throw e.getCause();
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
