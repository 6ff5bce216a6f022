package dev.difydr.testsupport;

/**
 * What the OSS SDK talks to in tests: S3Proxy (without authorization) holding one bucket, behind the
 * {@link NamespaceStrippingProxy} that makes it answer as OSS does.
 */
public record OssServer(S3ProxyServer s3, NamespaceStrippingProxy proxy) implements AutoCloseable {

    public static OssServer start(String bucket) {
        S3ProxyServer s3 = S3ProxyServer.startWithoutAuthorization();
        s3.createBucket(bucket);
        return new OssServer(s3, NamespaceStrippingProxy.start(s3.endpoint()));
    }

    @Override
    public void close() {
        try {
            proxy.close();
        } finally {
            s3.close();
        }
    }
}
