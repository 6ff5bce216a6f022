package dev.difydr.source.storage;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Runs a storage's tar writer on a thread of its own and hands its bytes to the caller's thread in {@value #CHUNKS}
 * circulating buffers of {@value #CHUNK} bytes. Reading files and formatting the tar then overlap with hashing and
 * feeding zstd, which the caller's thread does; on a busy two-core machine that is the difference between one core
 * and two. A failure on either side stops the other; the writer's failure is rethrown as it was.
 */
public final class TarHandoff {
    private static final int CHUNK = 1 << 20;
    private static final int CHUNKS = 4;

    private TarHandoff() {
    }

    @FunctionalInterface
    public interface TarWriter {
        TarStats writeTar(OutputStream out) throws IOException;
    }

    private record Chunk(byte[] data, int length) {
    }

    private record End(TarStats stats, Throwable failure) {
    }

    public static TarStats run(TarWriter writer, OutputStream sink) throws IOException {
        BlockingQueue<Object> full = new ArrayBlockingQueue<>(CHUNKS + 1);
        BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(CHUNKS);
        for (int i = 0; i < CHUNKS; i++) {
            free.add(new byte[CHUNK]);
        }
        Thread producer = new Thread(() -> {
            TarStats stats = null;
            Throwable failure = null;
            try (ChunkingStream out = new ChunkingStream(full, free)) {
                stats = writer.writeTar(out);
                out.flushChunk();
            } catch (Throwable t) {
                failure = t;
            }
            try {
                full.put(new End(stats, failure));
            } catch (InterruptedException e) {
                // the consumer gave up and no longer reads
            }
        }, "storage-tar");
        producer.setDaemon(true);
        producer.start();
        try {
            while (true) {
                Object o = full.take();
                if (o instanceof End end) {
                    if (end.failure() instanceof IOException e) {
                        throw e;
                    } else if (end.failure() instanceof RuntimeException e) {
                        throw e;
                    } else if (end.failure() instanceof Error e) {
                        throw e;
                    }
                    return end.stats();
                }
                Chunk c = (Chunk) o;
                sink.write(c.data(), 0, c.length());
                free.put(c.data());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DrException(Failure.SOURCE, "interrupted while the storage tar was written", e);
        } finally {
            producer.interrupt();
        }
    }

    private static final class ChunkingStream extends OutputStream {
        private final BlockingQueue<Object> full;
        private final BlockingQueue<byte[]> free;
        private byte[] current;
        private int length;

        ChunkingStream(BlockingQueue<Object> full, BlockingQueue<byte[]> free) {
            this.full = full;
            this.free = free;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (current == null) {
                    current = take();
                    length = 0;
                }
                int n = Math.min(len, current.length - length);
                System.arraycopy(b, off, current, length, n);
                length += n;
                off += n;
                len -= n;
                if (length == current.length) {
                    flushChunk();
                }
            }
        }

        void flushChunk() throws IOException {
            if (current != null && length > 0) {
                try {
                    full.put(new Chunk(current, length));
                } catch (InterruptedException e) {
                    throw new InterruptedIOException("the storage tar's consumer stopped");
                }
                current = null;
            }
        }

        private byte[] take() throws IOException {
            try {
                return free.take();
            } catch (InterruptedException e) {
                throw new InterruptedIOException("the storage tar's consumer stopped");
            }
        }
    }
}
