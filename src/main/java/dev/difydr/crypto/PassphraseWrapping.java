package dev.difydr.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Secret;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A keyset encrypted under a key derived from a passphrase: PBKDF2-HMAC-SHA256 (the JDK's) with a random 16-byte salt
 * and 600,000 iterations gives an AES-256-GCM key (Tink's) that encrypts the Tink keyset.
 */
public final class PassphraseWrapping implements KeysetWrapping {
    public static final String TYPE = "passphrase";
    static final String KDF = "PBKDF2WithHmacSHA256";
    static final int ITERATIONS = 600_000;
    /** Fewer iterations than this in a file are refused: the file would be cheap to brute-force. */
    static final int MIN_ITERATIONS = 100_000;

    private final byte[] salt;
    private final int iterations;
    private final Aead aead;

    private PassphraseWrapping(Secret passphrase, byte[] salt, int iterations) {
        this.salt = salt.clone();
        this.iterations = iterations;
        char[] chars = passphrase.reveal().toCharArray();
        PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, 256);
        try {
            byte[] key = SecretKeyFactory.getInstance(KDF).generateSecret(spec).getEncoded();
            try {
                this.aead = new AesGcmJce(key);
            } finally {
                Arrays.fill(key, (byte) 0);
            }
        } catch (GeneralSecurityException e) {
            throw new DrException(Failure.INTERNAL, "cannot derive the keyset wrapping key: " + e.getMessage(), e);
        } finally {
            spec.clearPassword();
            Arrays.fill(chars, '\0');
        }
    }

    /** A new wrapping with a fresh salt, for writing a keyset file. */
    public static PassphraseWrapping create(Secret passphrase) {
        requireUsable(passphrase);
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return new PassphraseWrapping(passphrase, salt, ITERATIONS);
    }

    /** The wrapping a file describes, with the passphrase that should open it. */
    static PassphraseWrapping of(JsonNode description, Secret passphrase, String where) {
        requireUsable(passphrase);
        String kdf = description.path("kdf").asText();
        int iterations = description.path("iterations").asInt(0);
        byte[] salt;
        try {
            salt = Base64.getDecoder().decode(description.path("salt").asText(""));
        } catch (IllegalArgumentException e) {
            throw new DrException(Failure.CONFIG, where + ": wrapping.salt is not base64");
        }
        if (!KDF.equals(kdf) || iterations < MIN_ITERATIONS || salt.length < 16) {
            throw new DrException(Failure.CONFIG, where + ": the passphrase wrapping must be " + KDF + " with at least "
                    + MIN_ITERATIONS + " iterations and a 16-byte salt (found " + kdf + ", " + iterations + ", " + salt.length
                    + " bytes); the file was not written by 'dify-dr keys'");
        }
        return new PassphraseWrapping(passphrase, salt, iterations);
    }

    private static void requireUsable(Secret passphrase) {
        if (passphrase == null || passphrase.reveal().length() < 12) {
            throw new DrException(Failure.CONFIG, "the keyset passphrase must have at least 12 characters");
        }
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Aead aead() {
        return aead;
    }

    @Override
    public ObjectNode describe() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("type", TYPE);
        n.put("kdf", KDF);
        n.put("iterations", iterations);
        n.put("salt", Base64.getEncoder().encodeToString(salt));
        return n;
    }
}
