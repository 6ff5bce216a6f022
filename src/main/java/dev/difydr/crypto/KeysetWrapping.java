package dev.difydr.crypto;

import com.google.crypto.tink.Aead;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * How a keyset file keeps its keyset encrypted: the AEAD that encrypts and decrypts the Tink keyset, and the
 * parameters that find it again, recorded beside the encrypted keyset. A passphrase ({@link PassphraseWrapping}) is
 * the one implemented; a cloud KMS key is another such wrapping.
 */
public interface KeysetWrapping {

    /** The {@code type} recorded in the file's {@code wrapping} object. */
    String type();

    /** The AEAD that wraps the keyset. */
    Aead aead();

    /** What the file records to find the AEAD again (salt, iterations, a KMS key URI); never a secret. */
    ObjectNode describe();
}
