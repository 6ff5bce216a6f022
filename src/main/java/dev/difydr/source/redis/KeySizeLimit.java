package dev.difydr.source.redis;

import dev.difydr.pipeline.Bytes;

/**
 * The most bytes of one key a reader of a snapshot holds at once: the key's name, or its value as the DUMP payload
 * that {@code RESTORE} takes. Redis sends both as one bulk string, which {@code proto-max-bulk-len} bounds (512 MiB by
 * default). A restored value is in memory about three times over while it becomes a payload (the capture buffer
 * with its headroom, the value, the payload) next to a batch of up to 16 MiB of payloads, so one key may take an
 * eighth of the heap.
 */
record KeySizeLimit(long bytes) {
    static final long REDIS_BULK_MAX = 512L << 20;
    static final int HEAP_SHARE = 8;

    static KeySizeLimit forThisHeap() {
        return new KeySizeLimit(Math.min(REDIS_BULK_MAX, Runtime.getRuntime().maxMemory() / HEAP_SHARE));
    }

    /** The refusal of {@code what} (such as "the value of key 'k' in db 0"), found to hold more than {@link #bytes}. */
    KeyTooLargeException exceeded(String what, long claimed) {
        String size = what + " holds more than " + Bytes.human(bytes) + (claimed > bytes ? " (its length says " + claimed + " bytes)" : "");
        if (bytes >= REDIS_BULK_MAX) {
            return new KeyTooLargeException(size + ", more than Redis takes in one bulk string by default (proto-max-bulk-len"
                    + " 512mb), so RESTORE cannot recreate it; restore this snapshot by hand with redis-server (see the runbook)");
        }
        long heap = Runtime.getRuntime().maxMemory();
        return new KeyTooLargeException(size + ", the most one key may take in this JVM's heap of " + Bytes.human(heap)
                + " (an eighth of it): run dify-dr with a heap of " + HEAP_SHARE + " times the key's size, set with -Xmx in"
                + " DIFY_DR_JAVA_OPTS for the ./dify-dr launcher (which then replaces its default options, -Xms32m -Xmx160m"
                + " -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError) or in the java command");
    }
}
