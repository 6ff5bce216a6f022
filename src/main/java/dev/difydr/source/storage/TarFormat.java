package dev.difydr.source.storage;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.io.IOUtils;
import org.apache.commons.io.input.ProxyInputStream;

/**
 * The one tar dialect dify-dr writes: POSIX/PAX, which GNU tar, bsdtar and busybox read. PAX headers carry what the
 * ustar header cannot: names and link targets over 100 bytes or not ASCII (as UTF-8), sizes and ids over the octal
 * limits, and sub-second mtimes.
 */
final class TarFormat {
    /** The tar stream writes 512-byte records; batching them keeps calls into zstd and SHA-256 few and large. */
    static final int BUFFER = 1 << 20;

    /**
     * At most this many bytes of a tar are read to find the next entry: its headers, PAX records and GNU long names.
     * commons-compress 1.28 holds a long name or a PAX header whole in memory, so one that claims (and holds) hundreds
     * of megabytes would exhaust a small heap; libarchive caps these at 1 MiB too.
     */
    static final int MAX_METADATA = 1 << 20;

    private TarFormat() {
    }

    /**
     * A tar reader for an archive that may be hostile: what it reads to find each entry is bounded by
     * {@link #MAX_METADATA}, and a larger header is refused naming the entry before it. The entry data is not bounded:
     * it streams.
     */
    static TarArchiveInputStream reader(InputStream tar) throws IOException {
        MetadataBudget budget = new MetadataBudget(tar);
        return new TarArchiveInputStream(budget, StandardCharsets.UTF_8.name()) {
            private String previous = "the first entry";

            @Override
            public TarArchiveEntry getNextEntry() throws IOException {
                // The rest of the current entry is data: read it before the budget starts
                if (getCurrentEntry() != null) {
                    IOUtils.consume(this);
                }
                budget.start(previous);
                try {
                    TarArchiveEntry e = super.getNextEntry();
                    previous = e == null ? previous : "the entry after '" + TarEntryRules.printable(e.getName()) + "'";
                    return e;
                } finally {
                    budget.stop();
                }
            }
        };
    }

    /** Counts what is read (or skipped) while on, and fails past {@link #MAX_METADATA}. */
    private static final class MetadataBudget extends ProxyInputStream {
        private long left = -1;
        private String where;

        MetadataBudget(InputStream in) {
            super(in);
        }

        void start(String where) {
            this.where = where;
            left = MAX_METADATA;
        }

        void stop() {
            left = -1;
        }

        @Override
        protected void afterRead(int n) {
            spent(n);
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            spent(skipped);
            return skipped;
        }

        private void spent(long n) {
            if (left >= 0 && n > 0) {
                left -= n;
                if (left < 0) {
                    throw new DrException(Failure.SOURCE, "refusing the tar archive: the headers of " + where + " (PAX records or a"
                            + " GNU long name) take more than " + MAX_METADATA + " bytes; the archive is damaged or was not written by"
                            + " dify-dr, and nothing more of it was extracted");
                }
            }
        }
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
