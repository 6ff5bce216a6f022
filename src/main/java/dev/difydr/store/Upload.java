package dev.difydr.store;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A write in progress. Bytes become an object only on {@link #commit()}. {@link #close()} without a commit aborts,
 * so that a try-with-resources block that throws leaves nothing behind.
 */
public abstract class Upload extends OutputStream {
    private boolean finished;


    /** Makes the object visible under its key. */
    public final synchronized void commit() throws IOException {
        if (finished) {
            throw new IllegalStateException("upload already finished");
        }
        finished = true;
        doCommit();
    }

    /** Discards everything written. Safe to call more than once, and from another thread (a shutdown hook). */
    public final synchronized void abort() {
        if (!finished) {
            finished = true;
            doAbort();
        }
    }

    @Override
    public final void close() {
        abort();
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public abstract void write(byte[] b, int off, int len) throws IOException;

    protected abstract void doCommit() throws IOException;

    protected abstract void doAbort();
}
