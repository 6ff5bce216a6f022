package dev.difydr.config;

/**
 * S3 client settings. Without an {@code endpoint} the AWS endpoint of {@code region} is used. Keys may be omitted to
 * use the default AWS credential chain (environment, profile, instance role). {@code checksums} is
 * {@code when_required} (default for a custom endpoint: many S3-compatible servers reject the SDK's default request
 * checksums) or {@code when_supported} (default for AWS).
 */
public record S3Config(
        String endpoint,
        String region,
        Boolean pathStyle,
        Secret accessKeyId,
        Secret secretAccessKey,
        Secret sessionToken,
        String checksums,
        Integer partSizeMiB,
        Integer uploadConcurrency,
        Integer maxAttempts) {

    public static final S3Config DEFAULT = new S3Config(null, null, null, null, null, null, null, null, null, null);

    public S3Config {
        region = region == null ? "us-east-1" : region;
        pathStyle = pathStyle == null ? endpoint != null : pathStyle;
        checksums = checksums == null ? (endpoint == null ? "when_supported" : "when_required") : checksums;
        partSizeMiB = partSizeMiB == null ? 8 : partSizeMiB;
        uploadConcurrency = uploadConcurrency == null ? 4 : uploadConcurrency;
        maxAttempts = maxAttempts == null ? 5 : maxAttempts;
    }
}
