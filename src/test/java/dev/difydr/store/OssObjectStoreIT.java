package dev.difydr.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.aliyun.oss.model.AbortMultipartUploadRequest;
import com.aliyun.oss.model.InitiateMultipartUploadRequest;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.OssConfig;
import dev.difydr.config.Secret;
import dev.difydr.store.oss.OssObjectStore;
import dev.difydr.testsupport.NamespaceStrippingProxy;
import dev.difydr.testsupport.OssServer;
import dev.difydr.testsupport.S3ProxyServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * The store contract for Aliyun OSS. No OSS server can be installed where these tests run, so the OSS SDK talks to
 * S3Proxy (without authorization: it cannot verify OSS signatures) through {@link NamespaceStrippingProxy}, which
 * removes the S3 XML namespace the OSS SDK's parsers do not expect. The SDK uses path style by itself for the
 * 127.0.0.1 endpoint; that production code does not force path style is checked by {@code OssObjectStoreTest}.
 * What this cannot show: that real OSS accepts the signatures.
 */
class OssObjectStoreIT extends ObjectStoreContract {
    private static final String BUCKET = "dify-dr-oss-it";
    private static final String ACCESS_KEY_ID = "LTAI-test-access-id";
    private static final String ACCESS_KEY_SECRET = "oss-test-secret-7d41b9";
    private static OssServer oss;
    private static S3ProxyServer server;
    private static NamespaceStrippingProxy proxy;
    private String prefix;

    @BeforeAll
    static void startServer() {
        oss = OssServer.start(BUCKET);
        server = oss.s3();
        proxy = oss.proxy();
    }

    @AfterAll
    static void stopServer() {
        if (oss != null) {
            oss.close();
        }
    }

    @AfterEach
    void acceptRequestsAgain() {
        server.failPartUploadsAfter(-1);
        proxy.refuseEveryRequest(null);
    }

    private static OssConfig config(String endpoint, String secret, String token, int maxAttempts) {
        return new OssConfig(endpoint, null, Secret.of(ACCESS_KEY_ID), Secret.of(secret),
                token == null ? null : Secret.of(token), 5, null, maxAttempts, null);
    }

    /** Each test gets its own key prefix in the shared bucket. */
    @Override
    protected ObjectStore newStore() {
        prefix = "t-" + UUID.randomUUID() + "/";
        return new OssObjectStore(URI.create("oss://" + BUCKET + "/" + prefix), config(proxy.endpoint().toString(), ACCESS_KEY_SECRET, null, 3));
    }

    private OssObjectStore oss() {
        return (OssObjectStore) store;
    }

    /** Asks S3Proxy directly (not through the code under test), under this test's prefix only. */
    @Override
    protected void assertNoPendingUploads() {
        assertThat(server.client().listMultipartUploads(b -> b.bucket(BUCKET).prefix(prefix)).uploads())
                .extracting(MultipartUpload::key).isEmpty();
    }

    /** The helper above must be able to fail, or the contract's abort tests prove nothing. */
    @Test
    void pendingMultipartUploadsAreSeen() {
        String key = prefix + "left-behind";
        String id = oss().client().initiateMultipartUpload(new InitiateMultipartUploadRequest(BUCKET, key)).getUploadId();
        try {
            assertThatThrownBy(this::assertNoPendingUploads).isInstanceOf(AssertionError.class).hasMessageContaining(key);
        } finally {
            oss().client().abortMultipartUpload(new AbortMultipartUploadRequest(BUCKET, key, id));
        }
        assertNoPendingUploads();
    }

    @Test
    void objectsLiveUnderTheStorePrefix() {
        store.put("a/b", bytes(3));
        assertThat(server.client().listObjectsV2(b -> b.bucket(BUCKET).prefix(prefix)).contents())
                .extracting(o -> o.key()).containsExactly(prefix + "a/b");
    }

    @Test
    void listPagesThroughMoreThanOnePage() {
        for (int i = 0; i < 1005; i++) {
            String key = prefix + "many/" + String.format("%04d", i);
            server.client().putObject(b -> b.bucket(BUCKET).key(key), RequestBody.empty());
        }
        List<String> keys = store.list("many/").stream().map(ObjectStore.ObjectInfo::key).toList();
        assertThat(keys).hasSize(1005).doesNotHaveDuplicates().isSorted();
        assertThat(keys.get(1004)).isEqualTo("many/1004");
    }

    @Test
    void partRefusedMidUploadFailsTheUploadAndLeavesNothing() {
        server.failPartUploadsAfter(1);

        assertThatThrownBy(() -> {
            try (Upload upload = store.create("refused/big.bin")) {
                byte[] chunk = bytes(1 << 20);
                for (int i = 0; i < 23; i++) {
                    upload.write(chunk);
                }
                upload.commit();
            }
        }).isInstanceOf(IOException.class)
                .hasMessageContaining(prefix + "refused/big.bin")
                .hasMessageContaining("oss://" + BUCKET + "/" + prefix)
                .hasMessageContaining(proxy.endpoint().toString())
                .hasMessageContaining("AccessDenied");

        assertThat(server.partUploadsSeen()).as("parts sent before the failure stopped the upload").isBetween(2, 5);
        assertThat(store.list("")).isEmpty();
        assertThat(store.size("refused/big.bin")).isEmpty();
        assertThat(server.client().listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();

        // the store is still usable once parts are accepted again
        server.failPartUploadsAfter(-1);
        try (Upload upload = store.create("refused/big.bin")) {
            upload.write(bytes(11 << 20));
            upload.commit();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertThat(store.size("refused/big.bin")).contains((long) (11 << 20));
        assertNoPendingUploads();
    }

    @Test
    void unreachableEndpointFailsCheckFastNamingTheEndpoint() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + port;

        try (ObjectStore unreachable = new OssObjectStore(URI.create("oss://" + BUCKET + "/x/"), config(endpoint, ACCESS_KEY_SECRET, null, 2))) {
            long start = System.nanoTime();
            assertThatThrownBy(unreachable::check)
                    .isInstanceOfSatisfying(DrException.class, e -> {
                        assertThat(e.failure()).isEqualTo(Failure.STORE);
                        assertThat(e.getMessage()).contains(endpoint).contains("oss://" + BUCKET + "/x/").containsIgnoringCase("refused");
                        assertThat(DrException.describe(e)).doesNotContain(ACCESS_KEY_SECRET);
                    });
            assertThat((System.nanoTime() - start) / 1_000_000).as("ms spent with maxAttempts 2").isLessThan(10_000);
        }
    }

    @Test
    void missingBucketIsNamedByCheck() {
        try (ObjectStore noBucket = new OssObjectStore(URI.create("oss://no-such-bucket-" + UUID.randomUUID() + "/x/"),
                config(proxy.endpoint().toString(), ACCESS_KEY_SECRET, null, 1))) {
            assertThatThrownBy(noBucket::check)
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(e.getMessage())
                            .contains("does not exist").contains("no-such-bucket-"));
        }
    }

    @Test
    void securityTokenIsSentButNeverShown() {
        String token = "sts-token-" + UUID.randomUUID();
        try (OssObjectStore sts = new OssObjectStore(URI.create("oss://" + BUCKET + "/" + prefix),
                config(proxy.endpoint().toString(), ACCESS_KEY_SECRET, token, 1))) {
            sts.put("sts/object", bytes(10));
            assertThat(store.read("sts/object")).isEqualTo(bytes(10));
            assertThat(proxy.securityTokensSeen()).contains(token);
            assertThat(sts.describe()).doesNotContain(token);
        }
    }

    /**
     * S3Proxy cannot verify OSS signatures, so the proxy plays OSS refusing them, echoing the signed headers (the STS
     * token among them) the way a real SignatureDoesNotMatch answer does.
     */
    @Test
    void refusedCredentialsFailWithoutShowingSecretOrToken() {
        String wrong = "wrong-secret-" + UUID.randomUUID();
        String token = "sts-token-" + UUID.randomUUID();
        OssConfig config = config(proxy.endpoint().toString(), wrong, token, 1);
        proxy.refuseEveryRequest("SignatureDoesNotMatch");
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);

        try (OssObjectStore refused = new OssObjectStore(URI.create("oss://" + BUCKET + "/x/"), config)) {
            assertThatThrownBy(refused::check)
                    .isInstanceOfSatisfying(DrException.class, e -> {
                        assertThat(e.failure()).isEqualTo(Failure.STORE);
                        assertThat(e.getMessage()).contains("oss://" + BUCKET + "/x/").contains(proxy.endpoint().toString())
                                .contains("SignatureDoesNotMatch").contains("request id ");
                        assertThat(DrException.describe(e)).doesNotContain(wrong).doesNotContain(token);
                    });
            assertThat(proxy.securityTokensSeen()).as("the server did see the token it echoed").contains(token);
            assertThatThrownBy(() -> refused.read("some/key"))
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(DrException.describe(e))
                            .contains("some/key").contains("SignatureDoesNotMatch").doesNotContain(wrong).doesNotContain(token));
            assertThatThrownBy(() -> refused.size("some/key")).as("a refused HEAD is not a missing object")
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(DrException.describe(e))
                            .doesNotContain(wrong).doesNotContain(token));
            assertThatThrownBy(() -> refused.put("some/key", bytes(10)))
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(DrException.describe(e))
                            .contains("SignatureDoesNotMatch").doesNotContain(wrong).doesNotContain(token));
            assertThat(refused.describe()).doesNotContain(wrong);
            assertThat(config.toString()).doesNotContain(wrong).doesNotContain(token);
        } finally {
            root.detachAppender(logs);
        }
        // the SDK logs whole error responses; logback.xml must keep them out of the log
        assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(m -> m.contains(token) || m.contains(wrong));
    }

    @Test
    void withoutKeysTheEnvironmentIsUsedAndNamedWhenEmpty() {
        assumeTrue(System.getenv("OSS_ACCESS_KEY_ID") == null, "OSS_ACCESS_KEY_ID is set in this environment");
        OssConfig noKeys = new OssConfig(proxy.endpoint().toString(), null, null, null, null, null, null, 1, null);

        try (ObjectStore fromEnv = new OssObjectStore(URI.create("oss://" + BUCKET + "/x/"), noKeys)) {
            assertThatThrownBy(fromEnv::check)
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(e.getMessage())
                            .contains("oss://" + BUCKET + "/x/").contains("OSS_ACCESS_KEY_ID").contains("OSS_ACCESS_KEY_SECRET"));
        }
    }
}
