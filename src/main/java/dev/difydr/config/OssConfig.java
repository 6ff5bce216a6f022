package dev.difydr.config;

/**
 * Aliyun OSS client settings. {@code endpoint} is the region endpoint (e.g. {@code https://oss-cn-hangzhou.aliyuncs.com});
 * buckets are addressed virtual-hosted style, as OSS requires. {@code securityToken} is an STS token for temporary
 * credentials. Without keys, the SDK's environment credentials ({@code OSS_ACCESS_KEY_ID}, ...) are used, or else
 * RRSA ({@code ALIBABA_CLOUD_ROLE_ARN}, ...; see {@code dev.difydr.store.oss.OssCredentials}). {@code stsEndpoint} is
 * the STS host RRSA exchanges its token at ({@code host} or {@code host:port}, reached over HTTPS); without it the
 * credentials library picks one from {@code ALIBABA_CLOUD_STS_REGION} and {@code ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED},
 * or {@code sts.aliyuncs.com}.
 */
public record OssConfig(
        String endpoint,
        String region,
        Secret accessKeyId,
        Secret accessKeySecret,
        Secret securityToken,
        Integer partSizeMiB,
        Integer uploadConcurrency,
        Integer maxAttempts,
        String stsEndpoint) {

    public static final OssConfig DEFAULT = new OssConfig(null, null, null, null, null, null, null, null, null);

    public OssConfig {
        partSizeMiB = partSizeMiB == null ? 8 : partSizeMiB;
        uploadConcurrency = uploadConcurrency == null ? 4 : uploadConcurrency;
        maxAttempts = maxAttempts == null ? 5 : maxAttempts;
    }

    /**
     * {@code stsEndpoint} as the credentials library takes it, {@code host} or {@code host:port} ({@code https://} and a
     * trailing slash are dropped); null when there is none or it is not of that form (the configuration check says so).
     */
    public String stsHost() {
        if (stsEndpoint == null) {
            return null;
        }
        String s = stsEndpoint.strip();
        if (s.regionMatches(true, 0, "https://", 0, 8)) {
            s = s.substring(8);
        }
        if (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty() || s.contains("/") || s.contains("@") || s.contains("?") || s.contains("#")) {
            return null;
        }
        try {
            java.net.URI u = new java.net.URI("https://" + s);
            return u.getHost() == null || u.getPort() > 65535 ? null : s;
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }
}
