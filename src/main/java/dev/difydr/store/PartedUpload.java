package dev.difydr.store;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;

/**
 * A stream of unknown length written as a multipart upload: one part is buffered at a time, full parts are sent in the
 * background with at most {@code concurrency} in flight, and part buffers are recycled, so an upload never holds more
 * than {@code concurrency + 1} of them. A stream that fits in one part is sent as a single object instead. Any failure
 * aborts the multipart upload. Subclasses speak their store's protocol; {@code P} is what completing needs of a part.
 */
public abstract class PartedUpload<P> extends Upload {
    private static final int MAX_PARTS = 10_000;
    private static final long MAX_PART_BYTES = 5L << 30;

    protected final String key;
    private final int concurrency;
    private final ExecutorService executor;
    private final String partSizeSetting;
    private final BlockingQueue<byte[]> free;
    private final List<CompletableFuture<P>> sent = new ArrayList<>();
    private int allocated = 1;
    private byte[] buffer;
    private int filled;
    private String uploadId;
    private volatile Throwable partFailure;

    /** {@code partSizeSetting}: the configuration key to name when an object outgrows 10,000 parts. */
    protected PartedUpload(String key, int partSize, int concurrency, ExecutorService executor, String partSizeSetting) {
        this.key = key;
        this.concurrency = concurrency;
        this.executor = executor;
        this.partSizeSetting = partSizeSetting;
        this.free = new ArrayBlockingQueue<>(concurrency + 1);
        this.buffer = new byte[partSize];
    }

    /** Starts the multipart upload and returns its id. */
    protected abstract String start() throws IOException;

    /** Sends one part (on a background thread); a RuntimeException fails the upload. */
    protected abstract P sendPart(String uploadId, int partNumber, byte[] data, int length);

    /** Sends the whole object in one request (it fitted in one part). */
    protected abstract void putWhole(byte[] data, int length) throws IOException;

    protected abstract void complete(String uploadId, List<P> parts) throws IOException;

    /** Aborts the multipart upload, best effort: a failure is logged, not thrown. */
    protected abstract void abortUpload(String uploadId);

    /** The failure of the whole upload, given what a part's upload threw. */
    protected abstract IOException partFailed(Throwable cause);

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, buffer.length - filled);
            System.arraycopy(b, off, buffer, filled, n);
            filled += n;
            off += n;
            len -= n;
            if (filled == buffer.length) {
                sendBuffer();
            }
        }
    }

    private void sendBuffer() throws IOException {
        Throwable failed = partFailure;
        if (failed != null) {
            throw partFailed(failed);
        }
        if (uploadId == null) {
            uploadId = start();
        }
        int partNumber = sent.size() + 1;
        if (partNumber > MAX_PARTS) {
            throw new IOException("object " + key + " exceeds " + MAX_PARTS + " parts; raise " + partSizeSetting);
        }
        byte[] data = buffer;
        int length = filled;
        String id = uploadId;
        sent.add(CompletableFuture.supplyAsync(() -> {
            try {
                return sendPart(id, partNumber, data, length);
            } catch (RuntimeException e) {
                partFailure = e;
                throw e;
            } finally {
                free.offer(data);
            }
        }, executor));
        // Parts may grow so that very large streams stay within the 10,000-part limit.
        int next = partNumber % 1000 == 0 ? (int) Math.min(Math.min(2L * data.length, MAX_PART_BYTES), Integer.MAX_VALUE - 8) : data.length;
        buffer = nextBuffer(next);
        filled = 0;
    }

    /** A free part buffer of at least {@code size} bytes; waits for a part in flight when all are in use. */
    private byte[] nextBuffer(int size) throws IOException {
        byte[] b = free.poll();
        if (b == null && allocated <= concurrency) {
            allocated++;
            return new byte[size];
        }
        try {
            b = b != null ? b : free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while uploading " + key);
        }
        return b.length >= size ? b : new byte[size];
    }

    @Override
    protected final void doCommit() throws IOException {
        try {
            if (uploadId == null) {
                putWhole(buffer, filled);
                return;
            }
            if (filled > 0) {
                sendBuffer();
            }
            List<P> done = new ArrayList<>();
            for (CompletableFuture<P> f : sent) {
                done.add(f.get());
            }
            complete(uploadId, done);
        } catch (ExecutionException e) {
            abortQuietly();
            throw partFailed(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abortQuietly();
            throw new InterruptedIOException("interrupted while completing " + key);
        } catch (IOException e) {
            abortQuietly();
            throw e;
        } finally {
            buffer = null;
        }
    }

    @Override
    protected final void doAbort() {
        abortQuietly();
        buffer = null;
    }

    private void abortQuietly() {
        for (CompletableFuture<P> f : sent) {
            try {
                f.join();
            } catch (RuntimeException ignored) {
                // the part's failure is already recorded
            }
        }
        if (uploadId != null) {
            String id = uploadId;
            uploadId = null;
            abortUpload(id);
        }
    }
}
