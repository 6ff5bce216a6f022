package dev.difydr.config;

/** Where backups go: {@code file:///path}, {@code s3://bucket/prefix}; {@code s3} holds the S3 client settings. */
public record RepositoryConfig(String url, S3Config s3) {
}
