package dev.difydr.config;

/**
 * {@code encryption}: the Tink keyset that encrypts every artifact and seals every manifest and restore journal
 * ({@code keyset}, from {@code ${file:…}} or {@code ${env:…}}: in Kubernetes a Secret), and the passphrase of a
 * passphrase-wrapped keyset ({@code passphrase}). Absent: artifacts are stored in the clear and nothing is sealed.
 */
public record EncryptionConfig(Secret keyset, Secret passphrase) {

    public EncryptionConfig {
        passphrase = passphrase == null || passphrase.isEmpty() ? null : passphrase;
    }

    /** Whether {@code config} (the section, or null when absent) names a keyset: without one nothing is encrypted. */
    public static boolean enabled(EncryptionConfig config) {
        return config != null && config.keyset() != null && !config.keyset().isEmpty();
    }
}
