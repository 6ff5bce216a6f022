package dev.difydr.config;

/**
 * One file storage to back up, written as {@code storage/<name>.tar.zst}. Exactly one source: {@code path} (a
 * directory mounted where dify-dr runs), {@code pod} (a directory inside a running pod, read through the Kubernetes
 * exec API) or {@code bucket} (an object-store prefix, for Dify's {@code STORAGE_TYPE} {@code s3} or
 * {@code aliyun-oss}). {@code privkeys}: this storage holds {@code privkeys/<tenant_id>/private.pem} (default: the
 * storage named {@code app}). {@code optional}: a failure is recorded as missing instead of failing the set.
 */
public record StorageConfig(
        String name,
        String path,
        PodPath pod,
        BucketPrefix bucket,
        Boolean privkeys,
        Boolean optional) {

    public StorageConfig {
        privkeys = privkeys == null ? "app".equals(name) : privkeys;
        optional = optional != null && optional;
    }

    /** A directory in the first running pod that {@code selector} matches ({@code namespace}: the kubernetes one). */
    public record PodPath(String namespace, String selector, String container, String path) {
    }

    /** {@code url}: {@code s3://bucket/prefix} or {@code oss://bucket/prefix}, with that store's client settings. */
    public record BucketPrefix(String url, S3Config s3, OssConfig oss) {
    }
}
