package dev.difydr.repository;

/**
 * One stored object of a backup. {@code sha256} is of the stored bytes (what {@code sha256sum} of the downloaded
 * object prints), {@code plainSha256} of the bytes before compression (what {@code zstd -dc | sha256sum} prints).
 */
public record Artifact(
        String name,
        String kind,
        String path,
        long plainBytes,
        long storedBytes,
        String sha256,
        String plainSha256,
        String compression,
        String encryption) {
}
