package dev.difydr.source.storage;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The one tar dialect dify-dr writes: POSIX/PAX, which GNU tar, bsdtar and busybox read. PAX headers carry what the
 * ustar header cannot: names and link targets over 100 bytes or not ASCII (as UTF-8), sizes and ids over the octal
 * limits, and sub-second mtimes.
 */
final class TarFormat {
    /** The tar stream writes 512-byte records; batching them keeps calls into zstd and SHA-256 few and large. */
    static final int BUFFER = 1 << 20;

    private TarFormat() {
    }

    /**
     * A tar writer on {@code out}; {@code finish()} writes the end-of-archive blocks, {@code close()} flushes but
     * leaves {@code out} open: the caller's pipeline decides when its stream is complete.
     */
    static TarArchiveOutputStream writer(OutputStream out) {
        OutputStream nonClosing = new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new BufferedOutputStream(nonClosing, BUFFER), StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        return tar;
    }
}
