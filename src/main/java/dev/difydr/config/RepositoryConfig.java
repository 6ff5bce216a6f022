package dev.difydr.config;

/**
 * Where backups go: {@code file:///path}, {@code s3://bucket/prefix} or {@code oss://bucket/prefix}; {@code s3} and
 * {@code oss} hold that store's client settings.
 */
public record RepositoryConfig(String url, S3Config s3, OssConfig oss) {
}
