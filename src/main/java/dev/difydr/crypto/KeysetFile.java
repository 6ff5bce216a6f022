package dev.difydr.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The keyset file: a Tink keyset of {@code AES256_GCM_HKDF_1MB} streaming AEAD keys and when each key was created.
 *
 * <pre>
 * {"format": "dify-dr-keyset/1", "created": {"&lt;key id&gt;": "&lt;instant&gt;"}, "keyset": {…Tink JSON keyset…}}
 * {"format": "dify-dr-keyset/1", "created": {…}, "wrapping": {"type": "passphrase", …}, "encryptedKeyset": {…}}
 * </pre>
 *
 * A bare Tink JSON keyset (as {@code tinkey} writes it) is read too; its keys' creation times are unknown.
 */
public record KeysetFile(KeysetHandle keyset, Map<Long, Instant> created, KeysetWrapping wrapping) {
    public static final String FORMAT = "dify-dr-keyset/1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] WRAPPING_CONTEXT = "dify-dr keyset".getBytes(StandardCharsets.UTF_8);

    static {
        Keyring.register();
    }

    public KeysetFile {
        created = Map.copyOf(created);
    }

    /**
     * Reads a keyset file's text; {@code where} names it in messages ({@code encryption.keyset}, a path). A wrapped
     * keyset needs {@code passphrase}. Whatever is wrong is a CONFIG failure that never shows key material.
     */
    public static KeysetFile parse(String text, Secret passphrase, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new DrException(Failure.CONFIG, where + " is not JSON (line " + location(e) + "): give a keyset written by 'dify-dr keys generate'");
        }
        if (root == null || !root.isObject()) {
            throw new DrException(Failure.CONFIG, where + " is not a JSON object: give a keyset written by 'dify-dr keys generate'");
        }
        try {
            if (!root.has("format")) {
                if (!root.has("primaryKeyId") || !root.has("key")) {
                    throw new DrException(Failure.CONFIG, where + " is neither a dify-dr keyset file nor a Tink JSON keyset: give one written by 'dify-dr keys generate'");
                }
                return checked(new KeysetFile(TinkJsonProtoKeysetFormat.parseKeyset(text, InsecureSecretKeyAccess.get()), Map.of(), null), where);
            }
            if (!FORMAT.equals(root.path("format").asText())) {
                throw new DrException(Failure.CONFIG, where + ": format '" + root.path("format").asText() + "' is not " + FORMAT
                        + "; this dify-dr cannot read it");
            }
            Map<Long, Instant> created = new TreeMap<>();
            root.path("created").fields().forEachRemaining(e -> {
                try {
                    created.put(Long.parseLong(e.getKey()), Instant.parse(e.getValue().asText()));
                } catch (RuntimeException ignored) {
                    // a creation time is information only
                }
            });
            if (root.has("wrapping")) {
                if (passphrase == null) {
                    throw new DrException(Failure.CONFIG, where + " is wrapped with a passphrase: give encryption.passphrase "
                            + "(${env:…} or ${file:…}; for 'dify-dr keys', --passphrase-file FILE or DIFY_DR_KEYSET_PASSPHRASE)");
                }
                String type = root.path("wrapping").path("type").asText();
                if (!PassphraseWrapping.TYPE.equals(type)) {
                    throw new DrException(Failure.CONFIG, where + ": keyset wrapping '" + type + "' is not supported; use 'passphrase'");
                }
                PassphraseWrapping wrapping = PassphraseWrapping.of(root.path("wrapping"), passphrase, where);
                KeysetHandle handle;
                try {
                    handle = TinkJsonProtoKeysetFormat.parseEncryptedKeyset(JSON.writeValueAsString(root.path("encryptedKeyset")),
                            wrapping.aead(), WRAPPING_CONTEXT);
                } catch (GeneralSecurityException e) {
                    throw new DrException(Failure.CONFIG, where + ": the passphrase does not open the keyset (or the file was changed)");
                }
                return checked(new KeysetFile(handle, created, wrapping), where);
            }
            if (!root.has("keyset")) {
                throw new DrException(Failure.CONFIG, where + " has neither 'keyset' nor 'encryptedKeyset'");
            }
            return checked(new KeysetFile(TinkJsonProtoKeysetFormat.parseKeyset(JSON.writeValueAsString(root.path("keyset")),
                    InsecureSecretKeyAccess.get()), created, null), where);
        } catch (GeneralSecurityException | IOException e) {
            throw new DrException(Failure.CONFIG, where + " does not hold a valid Tink keyset (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** A new keyset file of one key created at {@code now}, wrapped when {@code wrapping} is not null. */
    public static KeysetFile generate(Instant now, KeysetWrapping wrapping) {
        KeysetHandle keyset = Keyring.generate();
        return new KeysetFile(keyset, Map.of(new Keyring(keyset).primaryId(), now), wrapping);
    }

    /** This file with a new primary key created at {@code now}; the other keys, their times and the wrapping stay. */
    public KeysetFile rotated(Instant now) {
        KeysetHandle keyset = Keyring.rotate(this.keyset);
        Map<Long, Instant> times = new TreeMap<>(created);
        times.put(new Keyring(keyset).primaryId(), now);
        return new KeysetFile(keyset, times, wrapping);
    }

    public Keyring keyring() {
        return new Keyring(keyset);
    }

    /** Refuses keysets with keys of another kind than {@link Keyring#ALGORITHM}, or none enabled. */
    private static KeysetFile checked(KeysetFile f, String where) {
        Keyring.check(f.keyset(), where);
        return f;
    }

    /** The file's text: the keyset wrapped when this file has a wrapping, in the clear otherwise. */
    public String write() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        ObjectNode times = root.putObject("created");
        created.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> times.put(Long.toUnsignedString(e.getKey()), e.getValue().toString()));
        try {
            if (wrapping != null) {
                root.set("wrapping", wrapping.describe());
                root.set("encryptedKeyset", JSON.readTree(TinkJsonProtoKeysetFormat.serializeEncryptedKeyset(keyset, wrapping.aead(), WRAPPING_CONTEXT)));
            } else {
                root.set("keyset", JSON.readTree(TinkJsonProtoKeysetFormat.serializeKeyset(keyset, InsecureSecretKeyAccess.get())));
            }
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (GeneralSecurityException | IOException e) {
            throw new DrException(Failure.INTERNAL, "cannot serialise the keyset: " + e.getClass().getSimpleName(), e);
        }
    }

    private static String location(IOException e) {
        return e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                ? String.valueOf(j.getLocation().getLineNr()) : "?";
    }
}
