package dev.difydr.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads a stream on a thread of its own and serves the chunks in order through a bounded queue: whatever the stream
 * does as it is read (hashing the stored bytes, decrypting them) then costs the reader's core, not the
 * decompressor's. {@value #CHUNKS} buffers of {@value #CHUNK} bytes circulate between the two threads, so nothing is
 * allocated per chunk. A read failure is rethrown to the consumer as {@link Failed}, so that it is never mistaken for
 * bad data; bytes that do not decrypt ({@link ArtifactReader.DecryptFailure}) are rethrown as they are, once the
 * chunks before them have been served.
 */
final class ReadAhead extends InputStream {
    private static final int CHUNK = 1 << 20;
    private static final int CHUNKS = 4;
    private static final byte[] END = new byte[0];

    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(CHUNKS + 1);
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(CHUNKS);
    private final Thread reader;
    private byte[] current;
    private int position;
    private int limit;
    private boolean ended;
    private volatile boolean closed;

    /** A failure to read the source, as opposed to anything wrong with its bytes. */
    static final class Failed extends IOException {
        Failed(IOException cause) {
            super(cause.getMessage(), cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    private record Chunk(byte[] bytes, int length) {
    }

    ReadAhead(InputStream source) {
        for (int i = 0; i < CHUNKS; i++) {
            free.add(new byte[CHUNK]);
        }
        reader = new Thread(() -> {
            try {
                while (!closed) {
                    byte[] buffer = free.take();
                    int n = source.readNBytes(buffer, 0, CHUNK);
                    if (n <= 0) {
                        break;
                    }
                    queue.put(new Chunk(buffer, n));
                }
                queue.put(END);
            } catch (Failed | ArtifactReader.DecryptFailure e) {
                offer(e);
            } catch (IOException e) {
                offer(new Failed(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                offer(new Failed(new IOException(e.toString(), e)));
            }
        }, "read-ahead");
        reader.setDaemon(true);
        reader.start();
    }

    private void offer(Object item) {
        try {
            queue.put(item);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean fill() throws IOException {
        if (ended) {
            return false;
        }
        Object next;
        try {
            next = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while reading ahead");
        }
        if (next == END) {
            ended = true;
            return false;
        }
        if (next instanceof IOException e) {
            ended = true;
            throw e;
        }
        Chunk c = (Chunk) next;
        if (current != null) {
            free.add(current);
        }
        current = c.bytes();
        position = 0;
        limit = c.length();
        return true;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (position == limit) {
            if (!fill()) {
                return -1;
            }
        }
        int n = Math.min(len, limit - position);
        System.arraycopy(current, position, b, off, n);
        position += n;
        return n;
    }

    /** Stops the reader; the caller closes the source. */
    @Override
    public void close() {
        closed = true;
        reader.interrupt();
    }
}
