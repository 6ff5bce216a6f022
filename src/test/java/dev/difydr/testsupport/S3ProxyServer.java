package dev.difydr.testsupport;

import dev.difydr.config.S3Config;
import dev.difydr.config.Secret;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.gaul.s3proxy.S3ErrorCode;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.S3ProxyException;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.blobstore.domain.MultipartUpload;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * An S3 server for tests: S3Proxy in this JVM on 127.0.0.1 (random port), SigV4 with a fixed key pair, objects in a
 * filesystem blob store so that large uploads do not sit in the heap. It can be told to refuse part uploads, to test
 * what a store does when S3 fails in the middle of a multipart upload.
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "dify-dr-test-access";
    public static final String SECRET_KEY = "dify-dr-test-secret-3f9c2a7e";
    public static final String REGION = "us-east-1";

    private final S3Proxy proxy;
    private final Path dir;
    private final boolean ownsDir;
    private final URI endpoint;
    private final PartRefusingBlobStore blobStore;
    private S3Client client;

    private S3ProxyServer(S3Proxy proxy, Path dir, boolean ownsDir, URI endpoint, PartRefusingBlobStore blobStore) {
        this.proxy = proxy;
        this.dir = dir;
        this.ownsDir = ownsDir;
        this.endpoint = endpoint;
        this.blobStore = blobStore;
    }

    /** A server on a fresh temp directory, deleted on {@link #close()}. */
    public static S3ProxyServer start() {
        return startInTempDir(true);
    }

    /**
     * Like {@link #start()}, but accepting any request signature: for clients that sign another way than S3 (the OSS
     * SDK). {@link #client()} still works.
     */
    public static S3ProxyServer startWithoutAuthorization() {
        return startInTempDir(false);
    }

    private static S3ProxyServer startInTempDir(boolean authorize) {
        try {
            return start(Files.createTempDirectory("dify-dr-s3-"), true, authorize);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A server on an existing or new directory that is kept on {@link #close()}. */
    public static S3ProxyServer start(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return start(dir, false, true);
    }

    private static S3ProxyServer start(Path dir, boolean ownsDir, boolean authorize) {
        PartRefusingBlobStore blobStore = new PartRefusingBlobStore(new FilesystemNio2BlobStore(dir.toAbsolutePath().toString()));
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(blobStore)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(authorize ? AuthenticationType.AWS_V2_OR_V4 : AuthenticationType.NONE, ACCESS_KEY, SECRET_KEY)
                // the SDK's multipart clients send headers S3Proxy does not know (x-amz-mp-object-size)
                .ignoreUnknownHeaders(true)
                .stopTimeout(0)
                .build();
        try {
            proxy.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("S3Proxy did not start within 30 s: " + proxy.getState());
                }
                Thread.sleep(10);
            }
        } catch (Exception e) {
            try {
                proxy.stop();
            } catch (Exception ignored) {
                // reporting the start failure matters more
            }
            throw new IllegalStateException("cannot start S3Proxy in " + dir, e);
        }
        return new S3ProxyServer(proxy, dir, ownsDir, URI.create("http://127.0.0.1:" + proxy.getPort()), blobStore);
    }

    public URI endpoint() {
        return endpoint;
    }

    public String accessKey() {
        return ACCESS_KEY;
    }

    public String secretKey() {
        return SECRET_KEY;
    }

    /** Where the blob store keeps its files. */
    public Path directory() {
        return dir;
    }

    /** A plain (non-multipart) client, for tests to look into buckets directly. */
    public synchronized S3Client client() {
        if (client == null) {
            client = S3Client.builder()
                    .endpointOverride(endpoint)
                    .region(Region.of(REGION))
                    .forcePathStyle(true)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    .httpClientBuilder(ApacheHttpClient.builder())
                    .build();
        }
        return client;
    }

    public void createBucket(String bucket) {
        client().createBucket(b -> b.bucket(bucket));
    }

    /** Settings for a store pointing at this server: path style, no default checksums, 5 MiB parts. */
    public S3Config s3Config() {
        return new S3Config(endpoint.toString(), REGION, true, Secret.of(ACCESS_KEY), Secret.of(SECRET_KEY), null,
                "when_required", 5, null, null);
    }

    /**
     * From now on, answers the (n+1)-th and every later UploadPart request with 403 AccessDenied, which clients do
     * not retry. {@code -1} accepts every part again.
     */
    public void failPartUploadsAfter(int n) {
        blobStore.refuseAfter(n);
    }

    /**
     * From now on, a DeleteObjects request leaves every key that ends with {@code keySuffix} in place and reports it
     * as an AccessDenied error in its answer, as S3 does for a key a bucket policy protects; null deletes all again.
     */
    public void refuseDeleting(String keySuffix) {
        blobStore.refusedDeletes = keySuffix;
    }

    /** UploadPart requests seen since the last {@link #failPartUploadsAfter}. */
    public int partUploadsSeen() {
        return blobStore.seen.get();
    }

    @Override
    public void close() {
        synchronized (this) {
            if (client != null) {
                client.close();
                client = null;
            }
        }
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop S3Proxy", e);
        } finally {
            if (ownsDir) {
                deleteTree(dir);
            }
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class PartRefusingBlobStore extends ForwardingBlobStore {
        private final AtomicInteger seen = new AtomicInteger();
        private volatile int allowed = -1;
        private volatile String refusedDeletes;

        PartRefusingBlobStore(BlobStore delegate) {
            super(delegate);
        }

        void refuseAfter(int n) {
            seen.set(0);
            allowed = n;
        }

        @Override
        public UploadPartResponse uploadMultipartPart(MultipartUpload upload, UploadPartRequest request, InputStream in) {
            int limit = allowed;
            int number = seen.incrementAndGet();
            if (limit >= 0 && number > limit) {
                // Read the body first: answering before the client has sent it makes the client see a broken
                // connection (which it retries) instead of the 403.
                try {
                    in.transferTo(OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                    // the refusal below is the answer either way
                }
                throw new S3ProxyException(S3ErrorCode.ACCESS_DENIED, "part uploads refused by the test");
            }
            return super.uploadMultipartPart(upload, request, in);
        }

        @Override
        public DeleteObjectsResponse removeBlobs(DeleteObjectsRequest request) {
            String suffix = refusedDeletes;
            if (suffix == null) {
                return super.removeBlobs(request);
            }
            List<ObjectIdentifier> refused = request.delete().objects().stream().filter(o -> o.key().endsWith(suffix)).toList();
            List<ObjectIdentifier> allowed = request.delete().objects().stream().filter(o -> !o.key().endsWith(suffix)).toList();
            DeleteObjectsResponse done = allowed.isEmpty() ? DeleteObjectsResponse.builder().build()
                    : super.removeBlobs(request.toBuilder().delete(d -> d.objects(allowed)).build());
            List<S3Error> errors = new ArrayList<>(done.hasErrors() ? done.errors() : List.of());
            refused.forEach(o -> errors.add(S3Error.builder().key(o.key()).code("AccessDenied").message("deletion refused by the test").build()));
            return done.toBuilder().errors(errors).build();
        }
    }
}
