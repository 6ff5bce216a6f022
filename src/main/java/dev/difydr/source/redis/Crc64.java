package dev.difydr.source.redis;

/**
 * Redis's CRC-64 (Jones polynomial, reflected, init 0, no final xor), which ends every RDB file and every DUMP payload.
 * Written here because the only Maven Central artifact that has it is a whole replication client; the table below is
 * the entire algorithm.
 */
public final class Crc64 {
    private static final long POLY = 0x95ac9329ac4bc9b5L; // the Jones polynomial 0xad93d23594c935a9, bit-reversed
    private static final long[] TABLE = new long[256];

    static {
        for (int i = 0; i < 256; i++) {
            long crc = i;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ POLY : crc >>> 1;
            }
            TABLE[i] = crc;
        }
    }

    private Crc64() {
    }

    public static long update(long crc, byte[] bytes, int offset, int length) {
        for (int i = offset, end = offset + length; i < end; i++) {
            crc = TABLE[(int) ((crc ^ bytes[i]) & 0xff)] ^ (crc >>> 8);
        }
        return crc;
    }

    public static long of(byte[] bytes) {
        return update(0, bytes, 0, bytes.length);
    }
}
