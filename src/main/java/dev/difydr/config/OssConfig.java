package dev.difydr.config;

/**
 * Aliyun OSS client settings. {@code endpoint} is the region endpoint (e.g. {@code https://oss-cn-hangzhou.aliyuncs.com});
 * buckets are addressed virtual-hosted style, as OSS requires. {@code securityToken} is an STS token for temporary
 * credentials. Without keys, the SDK's environment credentials ({@code OSS_ACCESS_KEY_ID}, ...) are used.
 */
public record OssConfig(
        String endpoint,
        String region,
        Secret accessKeyId,
        Secret accessKeySecret,
        Secret securityToken,
        Integer partSizeMiB,
        Integer uploadConcurrency,
        Integer maxAttempts) {

    public static final OssConfig DEFAULT = new OssConfig(null, null, null, null, null, null, null, null);

    public OssConfig {
        partSizeMiB = partSizeMiB == null ? 8 : partSizeMiB;
        uploadConcurrency = uploadConcurrency == null ? 4 : uploadConcurrency;
        maxAttempts = maxAttempts == null ? 5 : maxAttempts;
    }
}
