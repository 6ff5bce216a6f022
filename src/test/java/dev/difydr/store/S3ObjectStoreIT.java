package dev.difydr.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.S3Config;
import dev.difydr.config.Secret;
import dev.difydr.store.s3.S3ObjectStore;
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
import software.amazon.awssdk.services.s3.model.MultipartUpload;

class S3ObjectStoreIT extends ObjectStoreContract {
    private static final String BUCKET = "dify-dr-it";
    private static S3ProxyServer server;
    private String prefix;

    @BeforeAll
    static void startServer() {
        server = S3ProxyServer.start();
        server.createBucket(BUCKET);
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void acceptPartsAgain() {
        server.failPartUploadsAfter(-1);
        server.refuseDeleting(null);
    }

    @Test
    void batchDeleteFailsNamingTheKeysS3Refused() {
        for (int i = 0; i < 5; i++) {
            store.put("refuse/" + i + ".dump", bytes(1));
        }
        store.put("refuse/protected.lock", bytes(1));
        server.refuseDeleting(".lock");

        assertThatThrownBy(() -> store.delete(List.of("refuse/0.dump", "refuse/protected.lock", "refuse/1.dump")))
                .isInstanceOf(DrException.class)
                .satisfies(e -> assertThat(((DrException) e).failure()).isEqualTo(Failure.STORE))
                .hasMessageContaining("refused to delete 1 of 3 objects")
                .hasMessageContaining("refuse/protected.lock (AccessDenied: deletion refused by the test)")
                .hasMessageNotContaining(prefix + "refuse/");
        assertThat(store.list("refuse/")).extracting(ObjectStore.ObjectInfo::key)
                .containsExactly("refuse/2.dump", "refuse/3.dump", "refuse/4.dump", "refuse/protected.lock");
    }

    /** Each test gets its own key prefix in the shared bucket. */
    @Override
    protected ObjectStore newStore() {
        prefix = "t-" + UUID.randomUUID() + "/";
        return new S3ObjectStore(URI.create("s3://" + BUCKET + "/" + prefix), server.s3Config());
    }

    /** Looks under this test's prefix only, so that one leaked upload fails one test, not every later one. */
    @Override
    protected void assertNoPendingUploads() {
        assertThat(server.client().listMultipartUploads(b -> b.bucket(BUCKET).prefix(prefix)).uploads())
                .extracting(MultipartUpload::key).isEmpty();
    }

    /** The helper above must be able to fail, or the contract's abort tests prove nothing. */
    @Test
    void pendingMultipartUploadsAreSeen() {
        String key = prefix + "left-behind";
        String id = server.client().createMultipartUpload(b -> b.bucket(BUCKET).key(key)).uploadId();
        try {
            assertThatThrownBy(this::assertNoPendingUploads).isInstanceOf(AssertionError.class).hasMessageContaining(key);
        } finally {
            server.client().abortMultipartUpload(b -> b.bucket(BUCKET).key(key).uploadId(id));
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
                .hasMessageContaining("s3://" + BUCKET + "/" + prefix)
                .hasMessageContaining(server.endpoint().toString())
                .hasMessageContaining("403");

        assertThat(server.partUploadsSeen()).as("parts sent before the failure stopped the upload").isBetween(2, 5);
        assertThat(store.list("")).isEmpty();
        assertThat(store.size("refused/big.bin")).isEmpty();
        assertThat(server.client().listObjectsV2(b -> b.bucket(BUCKET).prefix(prefix)).contents()).isEmpty();
        assertThat(server.client().listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();

        // the store is still usable once S3 accepts parts again
        server.failPartUploadsAfter(-1);
        store.put("refused/after", bytes(7 << 20));
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
    void unreachableStoreFailsCheckNamingTheEndpointAndCause() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + port;
        S3Config good = server.s3Config();
        S3Config config = new S3Config(endpoint, good.region(), true, good.accessKeyId(), good.secretAccessKey(), null,
                good.checksums(), good.partSizeMiB(), good.uploadConcurrency(), 2);

        try (ObjectStore unreachable = new S3ObjectStore(URI.create("s3://" + BUCKET + "/x/"), config)) {
            long start = System.nanoTime();
            assertThatThrownBy(unreachable::check)
                    .isInstanceOfSatisfying(DrException.class, e -> {
                        assertThat(e.failure()).isEqualTo(Failure.STORE);
                        assertThat(e.getMessage()).contains(endpoint).containsIgnoringCase("connection refused");
                        assertThat(DrException.describe(e)).doesNotContain(server.secretKey());
                    });
            assertThat((System.nanoTime() - start) / 1_000_000).as("ms spent with maxAttempts 2").isLessThan(10_000);
        }
    }

    @Test
    void wrongSecretFailsCheckWithoutShowingTheSecret() {
        String wrong = "wrong-secret-" + UUID.randomUUID();
        S3Config good = server.s3Config();
        S3Config config = new S3Config(good.endpoint(), good.region(), true, good.accessKeyId(), Secret.of(wrong), null,
                good.checksums(), good.partSizeMiB(), good.uploadConcurrency(), 2);

        try (ObjectStore badKey = new S3ObjectStore(URI.create("s3://" + BUCKET + "/x/"), config)) {
            assertThatThrownBy(badKey::check)
                    .isInstanceOfSatisfying(DrException.class, e -> {
                        assertThat(e.failure()).isEqualTo(Failure.STORE);
                        assertThat(e.getMessage()).contains("s3://" + BUCKET).contains("403");
                        assertThat(DrException.describe(e)).doesNotContain(wrong).doesNotContain(server.secretKey());
                    });
            assertThat(badKey.describe()).doesNotContain(wrong);
            assertThat(config.toString()).doesNotContain(wrong);
        }
    }
}
