package dev.difydr.source.redis;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The logical fallback's stream ({@code dump.keys}), written when the server refuses the replication handshake.
 * Big-endian, after the header line {@code DIFYDR-REDIS-KEYS 1\n}:
 * <pre>
 *   'S' int32 db                                            the following keys are in this database
 *   'K' int32 keyLength key int64 pttl int32 payloadLength payload
 *                                                           pttl in ms, -1 for none; payload is DUMP's output
 *   'E' int64 keyCount                                      the end; keyCount is the number of K records
 * </pre>
 * A stream without its 'E' record, or whose count differs, is truncated and refused.
 */
public final class RedisKeysFormat {
    public static final String MAGIC = "DIFYDR-REDIS-KEYS 1\n";
    private static final int SELECT = 'S';
    private static final int KEY = 'K';
    private static final int END = 'E';

    private RedisKeysFormat() {
    }

    public static final class Writer {
        private final DataOutputStream out;
        private long keys;

        public Writer(OutputStream out) throws IOException {
            this.out = new DataOutputStream(out);
            this.out.write(MAGIC.getBytes(StandardCharsets.US_ASCII));
        }

        public void select(int db) throws IOException {
            out.writeByte(SELECT);
            out.writeInt(db);
        }

        public void key(byte[] key, long pttl, byte[] payload) throws IOException {
            out.writeByte(KEY);
            out.writeInt(key.length);
            out.write(key);
            out.writeLong(pttl);
            out.writeInt(payload.length);
            out.write(payload);
            keys++;
        }

        public long keys() {
            return keys;
        }

        /** Writes the end record; the underlying stream stays open. */
        public void finish() throws IOException {
            out.writeByte(END);
            out.writeLong(keys);
            out.flush();
        }
    }

    /** One key as recorded. */
    public record Key(int db, byte[] key, long pttl, byte[] payload) {
    }

    @FunctionalInterface
    public interface Visitor {
        void key(Key key) throws IOException;
    }

    /**
     * Reads a whole stream (the header included) and returns the number of keys; refuses a truncated one. A key's name
     * and payload are read into arrays that grow with the bytes actually there, up to {@link KeySizeLimit}.
     */
    public static long read(InputStream in, Visitor visitor) throws IOException {
        return read(in, visitor, KeySizeLimit.forThisHeap());
    }

    static long read(InputStream in, Visitor visitor, KeySizeLimit limit) throws IOException {
        DataInputStream data = new DataInputStream(in);
        try {
            byte[] magic = new byte[MAGIC.length()];
            data.readFully(magic);
            if (!MAGIC.equals(new String(magic, StandardCharsets.US_ASCII))) {
                throw new RdbFormatException("not a dify-dr Redis keys stream: it does not start with " + MAGIC.strip());
            }
            int db = 0;
            long keys = 0;
            while (true) {
                int tag = data.readUnsignedByte();
                switch (tag) {
                    case SELECT -> db = data.readInt();
                    case KEY -> {
                        int keyDb = db;
                        byte[] key = field(data, data.readInt(), limit, () -> "a key name in db " + keyDb);
                        long pttl = data.readLong();
                        byte[] payload = field(data, data.readInt(), limit,
                                () -> "the value of key '" + new String(key, StandardCharsets.UTF_8) + "' in db " + keyDb);
                        keys++;
                        visitor.key(new Key(db, key, pttl, payload));
                    }
                    case END -> {
                        long count = data.readLong();
                        if (count != keys) {
                            throw new RdbFormatException("the keys stream says it holds " + count + " keys but " + keys + " were read");
                        }
                        return keys;
                    }
                    default -> throw new RdbFormatException("unknown record tag " + tag + " in the keys stream: it is corrupt");
                }
            }
        } catch (EOFException e) {
            throw new RdbFormatException("the keys stream ends early, without its end record: it is truncated", e);
        }
    }

    /** {@code length} bytes, allocated as they arrive; {@code what} names them in messages. */
    private static byte[] field(DataInputStream data, int length, KeySizeLimit limit, Supplier<String> what) throws IOException {
        if (length < 0) {
            throw new RdbFormatException("negative length in the keys stream: it is corrupt");
        }
        try {
            if (length > limit.bytes()) {
                data.skipNBytes(limit.bytes() + 1); // a truncated stream is reported as such, not as a large key
                throw limit.exceeded(what.get(), length);
            }
            byte[] out = data.readNBytes(length);
            if (out.length < length) {
                throw new EOFException();
            }
            return out;
        } catch (EOFException e) {
            throw new RdbFormatException("the keys stream ends early, in " + what.get() + ", whose length says " + length
                    + " bytes: it is truncated, or that length is corrupt", e);
        }
    }
}
