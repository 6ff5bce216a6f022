package dev.difydr.pipeline;

import com.google.crypto.tink.subtle.EngineFactory;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets the JIT to compile the JDK's AES-GCM before the first artifact is encrypted or decrypted.
 *
 * <p>Tink seals each 1 MiB segment with one {@code Cipher.doFinal}, which the JDK splits into six calls of AES-CTR and
 * GHASH. HotSpot runs those with the CPU's AES and carry-less multiply instructions only once their small callers
 * are compiled by C2, which takes thousands of calls: at six calls per MiB, the first gigabytes of an artifact would
 * be encrypted (or decrypted) at about 80 MB/s instead of more than 1 GB/s. So small AES-GCM operations under a
 * throwaway all-zero key are run in rounds, each followed by a probe that encrypts and decrypts 256 KiB the way Tink
 * does, until the probe runs at compiled speed (or after {@value #MAX_ROUNDS} rounds, on a JVM that will not compile
 * them). Once per process, on a thread of its own: commands that read or write artifacts start it as soon as they
 * have their configuration, so that it overlaps their start (connecting, checking, reading the manifest), and the first
 * artifact stream waits for what is left of it. It typically takes 0.1 to 0.4 s.
 */
public final class GcmWarmUp {
    private static final Logger log = LoggerFactory.getLogger(GcmWarmUp.class);
    private static final int OPERATIONS_PER_ROUND = 2000;
    private static final int OPERATION_BYTES = 64;
    private static final int PROBE_BYTES = 256 * 1024;
    /** Compiled, the probe encrypts and decrypts its 256 KiB in about 0.15 ms; interpreted, in about 7. */
    private static final long PROBE_FAST_NANOS = 600_000;
    private static final int MAX_ROUNDS = 25;
    private static Thread thread;

    private GcmWarmUp() {
    }

    /** Starts the warm-up, unless it was started before. */
    public static synchronized Thread start() {
        if (thread == null) {
            thread = new Thread(GcmWarmUp::run, "gcm-warm-up");
            thread.setDaemon(true);
            thread.start();
        }
        return thread;
    }

    /** Returns once AES-GCM runs compiled or the warm-up gave up, starting it if need be; an interrupt ends the wait only. */
    static void ensure() {
        try {
            start().join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A failure only costs speed and is logged, never thrown. */
    private static void run() {
        long started = System.nanoTime();
        try {
            // Tink's choice of provider, so that the code warmed up is the code it uses
            Cipher cipher = EngineFactory.CIPHER.getInstance("AES/GCM/NoPadding");
            SecretKeySpec key = new SecretKeySpec(new byte[32], "AES");
            ByteBuffer small = ByteBuffer.allocate(OPERATION_BYTES);
            ByteBuffer smallOut = ByteBuffer.allocate(OPERATION_BYTES + 16);
            ByteBuffer probe = ByteBuffer.allocate(PROBE_BYTES);
            ByteBuffer sealed = ByteBuffer.allocate(PROBE_BYTES + 16);
            ByteBuffer opened = ByteBuffer.allocate(PROBE_BYTES);
            long nonce = 0;
            int round = 0;
            long probeNanos = Long.MAX_VALUE;
            while (round < MAX_ROUNDS && probeNanos > PROBE_FAST_NANOS) {
                round++;
                for (int i = 0; i < OPERATIONS_PER_ROUND; i++) {
                    operate(cipher, Cipher.ENCRYPT_MODE, key, ++nonce, small.clear(), smallOut.clear());
                }
                long t = System.nanoTime();
                operate(cipher, Cipher.ENCRYPT_MODE, key, ++nonce, probe.clear(), sealed.clear());
                operate(cipher, Cipher.DECRYPT_MODE, key, nonce, sealed.flip(), opened.clear());
                probeNanos = System.nanoTime() - t;
            }
            log.debug("AES-GCM warm-up: {} rounds, {} ms, last probe {} µs", round, (System.nanoTime() - started) / 1_000_000,
                    probeNanos / 1000);
        } catch (GeneralSecurityException | RuntimeException e) {
            log.debug("AES-GCM warm-up failed (encryption stays correct, only slower at first): {}", e.toString());
        }
    }

    private static void operate(Cipher cipher, int mode, SecretKeySpec key, long nonce, ByteBuffer in, ByteBuffer out)
            throws GeneralSecurityException {
        byte[] iv = new byte[12];
        ByteBuffer.wrap(iv).putLong(4, nonce);
        cipher.init(mode, key, new GCMParameterSpec(128, iv));
        cipher.doFinal(in, out);
    }
}
