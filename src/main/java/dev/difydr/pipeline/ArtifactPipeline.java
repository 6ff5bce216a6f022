package dev.difydr.pipeline;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import dev.difydr.config.CompressionConfig;
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
        HashingOutputStream stored = new HashingOutputStream(sink);
        MessageDigest plainDigest = HashingOutputStream.sha256();
        long plainBytes = 0;
        int workers = compression.workers() == 0 ? Runtime.getRuntime().availableProcessors() : compression.workers();
        try (ZstdOutputStreamNoFinalizer zstd = new ZstdOutputStreamNoFinalizer(new NonClosing(stored))) {
            zstd.setLevel(compression.level());
            zstd.setChecksum(true);
            if (workers > 1) {
                zstd.setWorkers(workers);
            }
            byte[] buffer = new byte[BUFFER];
            int n;
            while ((n = plain.readNBytes(buffer, 0, buffer.length)) > 0) {
                plainDigest.update(buffer, 0, n);
                zstd.write(buffer, 0, n);
                plainBytes += n;
                progress.advance(n);
            }
        }
        return new Stored(plainBytes, stored.count(), HexFormat.of().formatHex(plainDigest.digest()), stored.hex(), compressionName());
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
