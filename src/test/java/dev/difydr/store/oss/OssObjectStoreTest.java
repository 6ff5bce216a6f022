package dev.difydr.store.oss;

import static org.assertj.core.api.Assertions.assertThat;

import com.aliyun.oss.OSSClient;
import dev.difydr.config.OssConfig;
import dev.difydr.config.RepositoryConfig;
import dev.difydr.config.Secret;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.Stores;
import java.net.URI;
import java.net.URL;
import java.util.Date;
import org.junit.jupiter.api.Test;

/** How the store configures the SDK, checked without a server: presigning builds the URL a request would use. */
class OssObjectStoreTest {
    private static final String SECRET = "unit-test-secret-0c9e";
    private static final String TOKEN = "unit-test-sts-token-51aa";

    private static OssConfig config(String endpoint) {
        return new OssConfig(endpoint, null, Secret.of("LTAI-unit"), Secret.of(SECRET), Secret.of(TOKEN), null, null, 4, null);
    }

    private static URL presigned(OssObjectStore store, String key) {
        return store.client().generatePresignedUrl(store.bucket(), key, new Date(System.currentTimeMillis() + 60_000));
    }

    /** Real OSS refuses path-style requests (SecondLevelDomainForbidden): a region endpoint must get the bucket as host. */
    @Test
    void hostnameEndpointsAreAddressedVirtualHosted() {
        try (OssObjectStore store = new OssObjectStore(URI.create("oss://dify-backups/dr"), config("https://oss-cn-hangzhou.aliyuncs.com"))) {
            URL url = presigned(store, "dr/prod/manifest.json");

            assertThat(url.getHost()).isEqualTo("dify-backups.oss-cn-hangzhou.aliyuncs.com");
            assertThat(url.getPath()).isEqualTo("/dr/prod/manifest.json");
            assertThat(((OSSClient) store.client()).getClientConfiguration().isSLDEnabled()).isFalse();
        }
    }

    /** The tests' 127.0.0.1 endpoint gets path style from the SDK itself, not from this store. */
    @Test
    void ipEndpointsGetPathStyleFromTheSdk() {
        try (OssObjectStore store = new OssObjectStore(URI.create("oss://dify-backups/dr/"), config("http://127.0.0.1:9"))) {
            URL url = presigned(store, "dr/x");

            assertThat(url.getHost()).isEqualTo("127.0.0.1");
            assertThat(url.getPath()).isEqualTo("/dify-backups/dr/x");
        }
    }

    @Test
    void retriesAndConnectionsFollowTheConfiguration() {
        OssConfig c = new OssConfig("https://oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou", Secret.of("LTAI-unit"), Secret.of(SECRET),
                null, 16, 6, 7, null);
        try (OssObjectStore store = new OssObjectStore(URI.create("oss://dify-backups/dr"), c)) {
            var conf = ((OSSClient) store.client()).getClientConfiguration();
            assertThat(conf.getMaxErrorRetry()).isEqualTo(6);
            assertThat(conf.getMaxConnections()).isGreaterThanOrEqualTo(6);
            assertThat(conf.getSignatureVersion()).hasToString("V4");
        }
    }

    @Test
    void describeNamesBucketPrefixAndEndpointButNoCredentials() {
        try (ObjectStore store = Stores.open(new RepositoryConfig("oss://dify-backups/dr", null, config("https://oss-cn-hangzhou.aliyuncs.com")))) {
            assertThat(store).isInstanceOf(OssObjectStore.class);
            assertThat(store.describe()).isEqualTo("oss://dify-backups/dr/ at https://oss-cn-hangzhou.aliyuncs.com")
                    .doesNotContain(SECRET).doesNotContain(TOKEN);
        }
    }
}
