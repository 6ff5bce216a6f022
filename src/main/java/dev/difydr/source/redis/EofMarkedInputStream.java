package dev.difydr.source.redis;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * The payload of a diskless transfer: its length is not known in advance, and it ends with the 40-byte mark the
 * server announced in {@code $EOF:<mark>}. As a replica does, the mark is recognised when a read ends with it (the
 * server sends nothing after it until the replica acknowledges); the last 40 bytes are held back until then.
 */
final class EofMarkedInputStream extends InputStream {
    private final InputStream in;
    private final byte[] mark;
    private final byte[] buf = new byte[64 * 1024];
    private int start;
    private int end;
    private boolean markSeen;

    EofMarkedInputStream(InputStream in, byte[] mark) {
        if (mark.length != 40) {
            throw new IllegalArgumentException("the EOF mark has 40 bytes");
        }
        this.in = in;
        this.mark = mark.clone();
    }

    boolean complete() {
        return markSeen && start == end;
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
        while (true) {
            int deliverable = markSeen ? end - start : end - start - mark.length;
            if (deliverable > 0) {
                int n = Math.min(len, deliverable);
                System.arraycopy(buf, start, b, off, n);
                start += n;
                return n;
            }
            if (markSeen) {
                return -1;
            }
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
            int n = in.read(buf, end, buf.length - end);
            if (n < 0) {
                throw new EOFException("the connection closed before the end of the RDB transfer");
            }
            end += n;
            if (end >= mark.length && Arrays.equals(buf, end - mark.length, end, mark, 0, mark.length)) {
                markSeen = true;
                end -= mark.length;
            }
        }
    }
}
