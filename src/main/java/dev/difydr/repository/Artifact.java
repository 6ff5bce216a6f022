package dev.difydr.repository;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One stored object of a backup. {@code sha256} is of the stored bytes (what {@code sha256sum} of the downloaded
 * object prints), {@code plainSha256} of the bytes before compression (what {@code zstd -dc | sha256sum} prints).
 * {@code encryption} is {@value #NONE} or the algorithm ({@code AES256_GCM_HKDF_1MB}) and {@code keyId} the key (Tink's
 * key id) that encrypted the compressed bytes.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Artifact(
        String name,
        String kind,
        String path,
        long plainBytes,
        long storedBytes,
        String sha256,
        String plainSha256,
        String compression,
        String encryption,
        Long keyId) {
    public static final String NONE = "none";

    @JsonIgnore
    public boolean encrypted() {
        return encryption != null && !NONE.equals(encryption);
    }
}
