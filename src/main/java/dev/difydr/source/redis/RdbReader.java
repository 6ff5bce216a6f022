package dev.difydr.source.redis;

import com.ning.compress.lzf.ChunkDecoder;
import com.ning.compress.lzf.LZFException;
import com.ning.compress.lzf.util.ChunkDecoderFactory;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads an RDB stream (versions 1 to 12) front to back and hands each key to a {@link Visitor}: its database, name,
 * absolute expiry and, when asked for, the value's raw serialized bytes (type byte plus encoding, exactly as in the
 * file, which is what a DUMP payload carries). Values are walked, not decoded, so at most one value is held in memory.
 * The trailing CRC-64 is verified.
 *
 * <p>Every length in the stream is untrusted: nothing is allocated from a length alone. What is held (a key's name, a
 * captured value) grows with the bytes actually read, so a length claiming gigabytes in a short stream ends in a
 * truncation error, and one key may hold at most {@link KeySizeLimit} bytes, beyond which a {@link KeyTooLargeException}
 * names it. Counts only drive loops.
 *
 * <p>Module values of type 7 are skipped by their self-describing opcodes and listed as unsupported; a type-6 module
 * value or a type this reader does not know has no knowable extent, so reading stops there with an
 * {@link RdbFormatException} naming the key.
 */
public final class RdbReader {
    public static final int TYPE_MODULE = 6;
    public static final int TYPE_MODULE_2 = 7;
    private static final String[] TYPE_NAMES = {"string", "list", "set", "zset", "hash", "zset2", "module", "module2",
        "", "hash-zipmap", "list-ziplist", "set-intset", "zset-ziplist", "hash-ziplist", "list-quicklist", "stream",
        "hash-listpack", "zset-listpack", "list-quicklist2", "stream2", "set-listpack", "stream3"};
    private static final String MODULE_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    /** LZF's densest code, a 3-byte back reference, yields 264 bytes: no valid compressed string expands further. */
    private static final int LZF_MAX_EXPANSION = 88;
    private static final int FIRST_ALLOCATION = 64 * 1024;
    /** A capture buffer grown beyond this for one large value is dropped after it, not kept for the rest of the stream. */
    private static final int CAPTURE_RETAINED = 1 << 20;

    /** A key as stored: {@code expireAtMs} is -1 without expiry; {@code value} is null unless values are captured. */
    public record Entry(int db, byte[] key, long expireAtMs, int type, byte[] value) {
        public String keyText() {
            return new String(key, StandardCharsets.UTF_8);
        }
    }

    @FunctionalInterface
    public interface Visitor {
        void entry(Entry entry) throws IOException;
    }

    /** A key left out because its value belongs to a module. */
    public record Unsupported(int db, String key, String type) {
    }

    /** What the whole stream held: keys per database, module values left out, functions and module aux data seen. */
    public record Summary(int rdbVersion, Map<Integer, Long> keys, List<Unsupported> unsupported, int functions,
                          List<String> moduleAux, boolean checksumVerified, long bytes) {
    }

    /** A value whose extent cannot be known (a type-6 module value, an unknown type): the stream cannot be read on. */
    public static final class UnreadableValueException extends RdbFormatException {
        UnreadableValueException(String message) {
            super(message);
        }
    }

    private final InputStream in;
    private final boolean captureValues;
    private final KeySizeLimit keySizeLimit;
    private final byte[] buf = new byte[64 * 1024];
    private final ChunkDecoder lzf = ChunkDecoderFactory.safeInstance();
    private int pos;
    private int limit;
    private long consumedBefore;
    private long crc;
    private int crcFrom;
    private byte[] captured = new byte[1024];
    private int capturedLength;
    private boolean capturing;
    private boolean lengthEncoded;
    private int version = -1;
    // for messages: the key whose value is being read (null outside a value), and the length of the string being read
    private int valueDb;
    private byte[] valueKey;
    private long claimed = -1;

    public RdbReader(InputStream in, boolean captureValues) {
        this(in, captureValues, KeySizeLimit.forThisHeap());
    }

    RdbReader(InputStream in, boolean captureValues, KeySizeLimit keySizeLimit) {
        this.in = in;
        this.captureValues = captureValues;
        this.keySizeLimit = keySizeLimit;
    }

    public static String typeName(int type) {
        return type >= 0 && type < TYPE_NAMES.length && !TYPE_NAMES[type].isEmpty() ? TYPE_NAMES[type] : "type " + type;
    }

    /** The RDB version from the header; -1 before {@link #read} has read it. */
    public int version() {
        return version;
    }

    public long bytesRead() {
        return consumedBefore + pos;
    }

    /** Reads up to and including the checksum (buffered: the underlying stream may have been read further). */
    public Summary read(Visitor visitor) throws IOException {
        try {
            return readAll(visitor);
        } catch (EOFException e) {
            String where = valueKey == null ? "" : ", in the value of " + describeKey(valueDb, valueKey);
            String length = claimed > FIRST_ALLOCATION ? ", where a length said " + claimed + " bytes follow" : "";
            throw new RdbFormatException("the RDB stream ends early, after " + bytesRead() + " bytes" + where + length
                    + ": it is truncated, or that length is corrupt", e);
        }
    }

    private static String describeKey(int db, byte[] key) {
        return "key '" + new String(key, StandardCharsets.UTF_8) + "' in db " + db;
    }

    private Summary readAll(Visitor visitor) throws IOException {
        byte[] header = readBytes(9, "the header");
        String magic = new String(header, 0, 5, StandardCharsets.US_ASCII);
        String digits = new String(header, 5, 4, StandardCharsets.US_ASCII);
        if (!magic.equals("REDIS") || !digits.matches("\\d{4}")) {
            throw new RdbFormatException("not an RDB stream: it does not start with REDIS and a 4-digit version");
        }
        version = Integer.parseInt(digits);
        if (version < 1 || version > 12) {
            throw new RdbFormatException("RDB version " + version + " is not supported (1 to 12 are)");
        }
        Map<Integer, Long> keys = new TreeMap<>();
        List<Unsupported> unsupported = new ArrayList<>();
        List<String> moduleAux = new ArrayList<>();
        int functions = 0;
        int db = 0;
        long expireAt = -1;
        while (true) {
            int op = readU8();
            switch (op) {
                case 0xFF -> {
                    boolean verified = checkTrailer();
                    return new Summary(version, keys, unsupported, functions, moduleAux, verified, bytesRead());
                }
                case 0xFE -> db = databaseNumber(readLength());
                case 0xFD -> expireAt = (readLittleEndian(4) & 0xffffffffL) * 1000;
                case 0xFC -> expireAt = readLittleEndian(8);
                case 0xFB -> {
                    readLength();
                    readLength();
                }
                case 0xFA -> {
                    skipString();
                    skipString();
                }
                case 0xF9 -> readU8(); // LFU frequency
                case 0xF8 -> readLength(); // LRU idle time
                case 0xF7 -> {
                    long moduleId = readLength();
                    readLength(); // when_opcode
                    readLength(); // when
                    skipModuleOpcodes();
                    moduleAux.add(moduleName(moduleId));
                }
                case 0xF6 -> throw new RdbFormatException("the RDB holds functions in the pre-release format of Redis 7.0 RC1, which cannot be read");
                case 0xF5 -> {
                    skipString();
                    functions++;
                }
                case 0xF4 -> { // cluster slot info
                    readLength();
                    readLength();
                    readLength();
                }
                default -> {
                    byte[] key = readString("a key name in db " + db);
                    valueDb = db;
                    valueKey = key;
                    if (op == TYPE_MODULE_2) {
                        readLength();
                        skipModuleOpcodes();
                        unsupported.add(new Unsupported(db, new String(key, StandardCharsets.UTF_8), typeName(op)));
                    } else {
                        capturing = captureValues;
                        capturedLength = 0;
                        if (capturing) {
                            capture(new byte[] {(byte) op}, 0, 1);
                        }
                        skipValue(op, db, key);
                        capturing = false;
                        keys.merge(db, 1L, Long::sum);
                        byte[] value = captureValues ? Arrays.copyOf(captured, capturedLength) : null;
                        if (captured.length > CAPTURE_RETAINED) {
                            captured = new byte[1024];
                        }
                        visitor.entry(new Entry(db, key, expireAt, op, value));
                    }
                    valueKey = null;
                    expireAt = -1;
                }
            }
        }
    }

    private boolean checkTrailer() throws IOException {
        crc = Crc64.update(crc, buf, crcFrom, pos - crcFrom);
        crcFrom = pos;
        long computed = crc;
        if (version < 5) {
            return false;
        }
        long stored = readLittleEndian(8);
        if (stored == 0) {
            return false; // the server runs with rdbchecksum no
        }
        if (stored != computed) {
            throw new RdbFormatException(String.format("the RDB checksum does not match (stored %016x, computed %016x): the stream is corrupt",
                    stored, computed));
        }
        return true;
    }

    private void skipValue(int type, int db, byte[] key) throws IOException {
        switch (type) {
            case 0, 9, 10, 11, 12, 13, 16, 17, 20 -> skipString();
            case 1, 2 -> skipStrings(readCount());
            case 3 -> {
                for (long n = readCount(); n > 0; n--) {
                    skipString();
                    int len = readU8();
                    if (len < 253) {
                        skip(len);
                    }
                }
            }
            case 4 -> {
                for (long n = readCount(); n > 0; n--) {
                    skipString(); // field
                    skipString(); // value
                }
            }
            case 5 -> {
                for (long n = readCount(); n > 0; n--) {
                    skipString();
                    skip(8);
                }
            }
            case 14 -> skipStrings(readCount());
            case 18 -> {
                for (long n = readCount(); n > 0; n--) {
                    readLength(); // container: plain or packed
                    skipString();
                }
            }
            case 15, 19, 21 -> skipStream(type);
            default -> throw new UnreadableValueException("key '" + new String(key, StandardCharsets.UTF_8) + "' in db " + db + " has "
                    + (type == TYPE_MODULE ? "a module value (type 6)" : "unknown type " + type)
                    + ", which cannot be read without the module; the rest of the RDB cannot be read");
        }
    }

    private void skipStream(int type) throws IOException {
        for (long n = readCount(); n > 0; n--) {
            skipString(); // master id of the listpack
            skipString(); // the listpack
        }
        readLength(); // length
        readLength(); // last id ms
        readLength(); // last id seq
        if (type >= 19) {
            readLength(); // first id
            readLength();
            readLength(); // max deleted entry id
            readLength();
            readLength(); // entries added
        }
        for (long groups = readCount(); groups > 0; groups--) {
            skipString(); // name
            readLength(); // last delivered id
            readLength();
            if (type >= 19) {
                readLength(); // entries read
            }
            for (long pel = readCount(); pel > 0; pel--) {
                skip(16 + 8); // id, delivery time
                readLength(); // delivery count
            }
            for (long consumers = readCount(); consumers > 0; consumers--) {
                skipString(); // name
                skip(type >= 21 ? 16 : 8); // seen time (and active time)
                skip(times(readCount(), 16)); // ids of its pending entries
            }
        }
    }

    private void skipModuleOpcodes() throws IOException {
        while (true) {
            long op = readLength();
            switch (op > 5 ? -1 : (int) op) {
                case 0 -> {
                    return;
                }
                case 1, 2 -> readLength();
                case 3 -> skip(4);
                case 4 -> skip(8);
                case 5 -> skipString();
                default -> throw new RdbFormatException("unknown module value opcode " + op);
            }
        }
    }

    private static String moduleName(long moduleId) {
        char[] name = new char[9];
        long id = moduleId >>> 10;
        for (int i = 8; i >= 0; i--) {
            name[i] = MODULE_ID_CHARS.charAt((int) (id & 63));
            id >>>= 6;
        }
        return new String(name);
    }

    private void skipStrings(long n) throws IOException {
        for (; n > 0; n--) {
            skipString();
        }
    }

    private void skipString() throws IOException {
        long len = readLengthOrEncoding();
        if (!lengthEncoded) {
            claimed = checkedCount(len);
            skip(len);
            return;
        }
        switch ((int) len) {
            case 0 -> skip(1);
            case 1 -> skip(2);
            case 2 -> skip(4);
            case 3 -> {
                long compressed = readCount();
                readCount();
                claimed = compressed;
                skip(compressed);
            }
            default -> throw new RdbFormatException("unknown string encoding " + len);
        }
    }

    /** A string read whole, which is only ever a key's name: {@code what} names it in messages. */
    private byte[] readString(String what) throws IOException {
        long len = readLengthOrEncoding();
        if (!lengthEncoded) {
            return readBytes(checkedCount(len), what);
        }
        switch ((int) len) {
            case 0 -> {
                return Long.toString((byte) readU8()).getBytes(StandardCharsets.US_ASCII);
            }
            case 1 -> {
                return Long.toString((short) readLittleEndian(2)).getBytes(StandardCharsets.US_ASCII);
            }
            case 2 -> {
                return Long.toString((int) readLittleEndian(4)).getBytes(StandardCharsets.US_ASCII);
            }
            case 3 -> {
                long compressedLength = readCount();
                long length = readCount();
                byte[] compressed = readBytes(compressedLength, what);
                if (length == 0 || length > (long) compressed.length * LZF_MAX_EXPANSION) {
                    throw new RdbFormatException(what + " is an LZF string of " + compressed.length + " bytes that claims to expand to "
                            + length + " bytes, which LZF cannot: the stream is corrupt (at byte " + bytesRead() + ")");
                }
                if (length > keySizeLimit.bytes()) {
                    throw keySizeLimit.exceeded(what, length);
                }
                byte[] out = new byte[(int) length];
                try {
                    lzf.decodeChunk(compressed, 0, out, 0, out.length);
                } catch (LZFException | RuntimeException e) {
                    throw new RdbFormatException("corrupt LZF string in " + what + " at byte " + bytesRead(), e);
                }
                return out;
            }
            default -> throw new RdbFormatException("unknown string encoding " + len);
        }
    }

    private static int databaseNumber(long db) throws RdbFormatException {
        if (db < 0 || db > Integer.MAX_VALUE) {
            throw new RdbFormatException("database number " + Long.toUnsignedString(db) + " is out of range: the stream is corrupt");
        }
        return (int) db;
    }

    /** {@code count} records of {@code size} bytes, refused where the product overflows rather than wrapping. */
    private long times(long count, int size) throws RdbFormatException {
        if (count > Long.MAX_VALUE / size) {
            throw new RdbFormatException("a count of " + count + " at byte " + bytesRead() + " is out of range: the stream is corrupt");
        }
        return count * size;
    }

    /** A length-encoded number: unsigned 64 bits (a stream id uses them all), negative above 2^63. */
    private long readLength() throws IOException {
        long len = readLengthOrEncoding();
        if (lengthEncoded) {
            throw new RdbFormatException("an encoded string where a length is expected at byte " + bytesRead());
        }
        return len;
    }

    /** A number of elements or bytes, which no Redis value has 2^63 of. */
    private long readCount() throws IOException {
        return checkedCount(readLength());
    }

    private long checkedCount(long count) throws RdbFormatException {
        if (count < 0) {
            throw new RdbFormatException("a length of " + Long.toUnsignedString(count) + " at byte " + bytesRead()
                    + " is beyond any Redis value: the stream is corrupt");
        }
        return count;
    }

    /** A length, or with {@link #lengthEncoded} set, the number of a special string encoding. */
    private long readLengthOrEncoding() throws IOException {
        int first = readU8();
        lengthEncoded = false;
        switch (first >> 6) {
            case 0 -> {
                return first & 0x3f;
            }
            case 1 -> {
                return ((first & 0x3f) << 8) | readU8();
            }
            case 2 -> {
                if (first == 0x80) {
                    return readBigEndian(4);
                }
                if (first == 0x81) {
                    return readBigEndian(8);
                }
                throw new RdbFormatException("unknown length encoding " + first + " at byte " + bytesRead());
            }
            default -> {
                lengthEncoded = true;
                return first & 0x3f;
            }
        }
    }

    private long readLittleEndian(int n) throws IOException {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (long) readU8() << (8 * i);
        }
        return v;
    }

    private long readBigEndian(int n) throws IOException {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 8) | readU8();
        }
        return v;
    }

    private int readU8() throws IOException {
        if (pos == limit) {
            fill(1);
        }
        int b = buf[pos] & 0xff;
        if (capturing) {
            capture(buf, pos, 1);
        }
        pos++;
        return b;
    }

    /**
     * {@code n} bytes in an array that grows with the bytes actually read, up to {@link #keySizeLimit}; {@code what} names
     * them in messages.
     */
    private byte[] readBytes(long n, String what) throws IOException {
        claimed = n;
        byte[] out = new byte[(int) Math.min(n, Math.min(FIRST_ALLOCATION, keySizeLimit.bytes()))];
        int done = 0;
        while (done < n) {
            if (done == out.length) {
                if (done >= keySizeLimit.bytes()) {
                    throw keySizeLimit.exceeded(what, n);
                }
                out = Arrays.copyOf(out, (int) Math.min(n, Math.min(keySizeLimit.bytes(), 2L * out.length)));
            }
            if (pos == limit) {
                fill(1);
            }
            int take = Math.min(out.length - done, limit - pos);
            System.arraycopy(buf, pos, out, done, take);
            if (capturing) {
                capture(buf, pos, take);
            }
            pos += take;
            done += take;
        }
        claimed = -1;
        return out;
    }

    private void skip(long n) throws IOException {
        if (n < 0) {
            throw new RdbFormatException("negative length at byte " + bytesRead() + ": the stream is corrupt");
        }
        while (n > 0) {
            if (pos == limit) {
                fill(1);
            }
            int take = (int) Math.min(n, limit - pos);
            if (capturing) {
                capture(buf, pos, take);
            }
            pos += take;
            n -= take;
        }
        claimed = -1;
    }

    private void capture(byte[] src, int off, int len) throws RdbFormatException {
        long needed = (long) capturedLength + len;
        if (needed > keySizeLimit.bytes()) {
            throw keySizeLimit.exceeded("the value of " + describeKey(valueDb, valueKey), -1);
        }
        if (needed > captured.length) {
            // half again, not double: the headroom is heap the value's copies cannot use
            long wanted = Math.min(keySizeLimit.bytes(), Math.max(captured.length + (captured.length >> 1), needed));
            captured = Arrays.copyOf(captured, (int) wanted);
        }
        System.arraycopy(src, off, captured, capturedLength, len);
        capturedLength += len;
    }

    /** Makes at least {@code need} unread bytes available, folding the consumed ones into the checksum first. */
    private void fill(int need) throws IOException {
        crc = Crc64.update(crc, buf, crcFrom, pos - crcFrom);
        int unread = limit - pos;
        System.arraycopy(buf, pos, buf, 0, unread);
        consumedBefore += pos;
        pos = 0;
        crcFrom = 0;
        limit = unread;
        while (limit < need) {
            int n = in.read(buf, limit, buf.length - limit);
            if (n < 0) {
                throw new EOFException();
            }
            limit += n;
        }
    }
}
