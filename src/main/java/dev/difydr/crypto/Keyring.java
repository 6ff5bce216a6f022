package dev.difydr.crypto;

import com.google.crypto.tink.KeyStatus;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.streamingaead.AesGcmHkdfStreamingKey;
import com.google.crypto.tink.streamingaead.PredefinedStreamingAeadParameters;
import com.google.crypto.tink.streamingaead.StreamingAeadConfig;
import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.EncryptionConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The keys of a repository: Tink streaming AEAD ({@value #ALGORITHM}) keys, one of them primary. New artifacts are
 * encrypted under the primary key; any key in the keyset decrypts what it encrypted, so that a rotation re-uploads
 * nothing. Every ciphertext is bound to associated data (which deployment, backup and path it belongs to), so that an
 * artifact moved elsewhere does not decrypt.
 *
 * <p>A <em>seal</em> authenticates small documents (manifests, journals): the streaming AEAD ciphertext of nothing,
 * with the document as associated data, so AES-GCM's tag over the document under a key derived from the keyset and a
 * fresh salt. Only a holder of the keyset can make one that opens.
 */
public final class Keyring {
    public static final String ALGORITHM = "AES256_GCM_HKDF_1MB";

    static {
        register();
    }

    private final KeysetHandle keyset;
    private final Map<Long, StreamingAead> byId = new ConcurrentHashMap<>();

    public Keyring(KeysetHandle keyset) {
        check(keyset, "the keyset");
        this.keyset = keyset;
    }

    /** The keyring the configuration names, or null when it names none (no encryption). */
    public static Keyring fromConfig(EncryptionConfig config) {
        if (!EncryptionConfig.enabled(config)) {
            return null;
        }
        return new Keyring(KeysetFile.parse(config.keyset().reveal(), config.passphrase(), "encryption.keyset").keyset());
    }

    /** A new keyset of one {@value #ALGORITHM} key. */
    public static KeysetHandle generate() {
        try {
            return KeysetHandle.generateNew(PredefinedStreamingAeadParameters.AES256_GCM_HKDF_1MB);
        } catch (GeneralSecurityException e) {
            throw new DrException(Failure.INTERNAL, "cannot generate a key: " + e.getMessage(), e);
        }
    }

    /** {@code keyset} with a new {@value #ALGORITHM} key as its primary; the others stay, for decryption. */
    public static KeysetHandle rotate(KeysetHandle keyset) {
        try {
            return KeysetHandle.newBuilder(keyset)
                    .addEntry(KeysetHandle.generateEntryFromParameters(PredefinedStreamingAeadParameters.AES256_GCM_HKDF_1MB)
                            .withRandomId().makePrimary())
                    .build();
        } catch (GeneralSecurityException e) {
            throw new DrException(Failure.INTERNAL, "cannot add a key: " + e.getMessage(), e);
        }
    }

    /**
     * Registers Tink's streaming AEAD key manager, once per JVM: without it, Tink parses a keyset's keys into untyped
     * legacy keys, which {@link #check} refuses.
     */
    static void register() {
        try {
            StreamingAeadConfig.register();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot register Tink's streaming AEAD", e);
        }
    }

    static void check(KeysetHandle keyset, String where) {
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < keyset.size(); i++) {
            KeysetHandle.Entry e = keyset.getAt(i);
            if (!(e.getKey() instanceof AesGcmHkdfStreamingKey k)
                    || !k.getParameters().equals(PredefinedStreamingAeadParameters.AES256_GCM_HKDF_1MB)) {
                problems.add("key " + Integer.toUnsignedString(e.getId()) + " is " + e.getKey().getParameters());
            }
        }
        if (!problems.isEmpty()) {
            throw new DrException(Failure.CONFIG, where + " holds keys that are not " + ALGORITHM + " streaming AEAD keys ("
                    + String.join("; ", problems) + "); generate one with 'dify-dr keys generate'");
        }
        try {
            keyset.getPrimary();
        } catch (IllegalStateException e) {
            throw new DrException(Failure.CONFIG, where + " has no enabled primary key");
        }
    }

    public KeysetHandle keyset() {
        return keyset;
    }

    /** The id new artifacts are encrypted under (Tink's key id, unsigned). */
    public long primaryId() {
        return Integer.toUnsignedLong(keyset.getPrimary().getId());
    }

    /** Every key id, primary first. */
    public List<Long> ids() {
        List<Long> out = new ArrayList<>();
        out.add(primaryId());
        for (int i = 0; i < keyset.size(); i++) {
            long id = Integer.toUnsignedLong(keyset.getAt(i).getId());
            if (id != primaryId()) {
                out.add(id);
            }
        }
        return out;
    }

    public boolean has(long keyId) {
        return ids().contains(keyId);
    }

    /** Plain bytes written to the result are encrypted under the primary key into {@code sink}; closing ends the last segment (and closes the sink). */
    public OutputStream encrypt(OutputStream sink, byte[] associatedData) throws IOException {
        try {
            return aead(primaryId()).newEncryptingStream(sink, associatedData);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot start encrypting: " + e.getMessage(), e);
        }
    }

    /** The plain bytes of a ciphertext made under {@code keyId} with {@code associatedData}; a read fails on any change. */
    public InputStream decrypt(InputStream ciphertext, long keyId, byte[] associatedData) throws IOException {
        try {
            return aead(keyId).newDecryptingStream(ciphertext, associatedData);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot start decrypting: " + e.getMessage(), e);
        }
    }

    /** A seal of {@code document} in {@code context} (what it is and where it belongs), under the primary key. */
    public Seal seal(String context, byte[] document) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        try (OutputStream nothing = encrypt(out, sealed(context, document))) {
            // the ciphertext of no bytes: header and the last segment's tag
        } catch (IOException e) {
            throw new DrException(Failure.INTERNAL, "cannot seal " + context + ": " + e.getMessage(), e);
        }
        return new Seal(primaryId(), Base64.getEncoder().encodeToString(out.toByteArray()));
    }

    /** Whether {@code seal} was made by this keyset for exactly {@code document} in {@code context}. */
    public boolean opens(Seal seal, String context, byte[] document) {
        if (seal == null || seal.value() == null || !has(seal.keyId())) {
            return false;
        }
        try (InputStream in = decrypt(new ByteArrayInputStream(Base64.getDecoder().decode(seal.value())), seal.keyId(),
                sealed(context, document))) {
            return in.read() == -1;
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] sealed(String context, byte[] document) {
        byte[] c = (context + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[c.length + document.length];
        System.arraycopy(c, 0, out, 0, c.length);
        System.arraycopy(document, 0, out, c.length, document.length);
        return out;
    }

    /** The associated data of an artifact: its deployment, backup and path; moved anywhere else it does not decrypt. */
    public static byte[] artifactContext(String deployment, String backupId, String path) {
        return ("dify-dr artifact\0" + deployment + "\0" + backupId + "\0" + path).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The primitive of key {@code keyId} itself, not through a keyset: the key is chosen by id already, and a keyset's
     * decrypting stream, which could try several keys, would keep every ciphertext byte until its first read returned
     * (a buffer of two segments when that read asks for 1 MiB) and copy every byte once more.
     */
    private StreamingAead aead(long keyId) {
        return byId.computeIfAbsent(keyId, id -> {
            for (int i = 0; i < keyset.size(); i++) {
                KeysetHandle.Entry e = keyset.getAt(i);
                if (Integer.toUnsignedLong(e.getId()) == id) {
                    if (e.getStatus() == KeyStatus.DESTROYED) {
                        break;
                    }
                    try {
                        return AesGcmHkdfStreaming.create((AesGcmHkdfStreamingKey) e.getKey());
                    } catch (GeneralSecurityException ex) {
                        throw new DrException(Failure.INTERNAL, "cannot use key " + id + ": " + ex.getMessage(), ex);
                    }
                }
            }
            throw new DrException(Failure.CONFIG, "the keyset has no key " + Long.toUnsignedString(id) + " (keys: " + ids()
                    + "): give the keyset that was in use when it was written; 'dify-dr keys list' shows which backups use which key");
        });
    }

    /** A seal as recorded in a manifest or journal: the key it was made under and its bytes (base64). */
    public record Seal(long keyId, String value) {
    }
}
