package dev.difydr.pipeline;

/** What the pipeline measured of one stream: byte counts and SHA-256 of the plain and the stored bytes. */
public record Stored(long plainBytes, long storedBytes, String plainSha256, String storedSha256, String compression) {
}
