package dev.difydr.store.s3;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.S3Config;
import dev.difydr.store.NoSuchObjectException;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.Upload;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Objects in an S3 bucket (AWS or S3-compatible) under a key prefix. Streams of unknown length are uploaded as
 * multipart uploads with a bounded number of parts in flight (memory is about part size × (concurrency + 1)); a
 * stream that fits in one part is sent with a single PUT. Any failure aborts the multipart upload. Transient errors
 * are retried with backoff by the SDK's standard retry strategy; permanent ones fail at once.
 */
public final class S3ObjectStore implements ObjectStore {
    private static final Logger log = LoggerFactory.getLogger(S3ObjectStore.class);
    private static final int MAX_PARTS = 10_000;
    private static final long MAX_PART_BYTES = 5L << 30;

    private final S3Client client;
    private final String bucket;
    private final String prefix;
    private final String description;
    private final int partSize;
    private final int concurrency;
    private final ExecutorService parts;

    public S3ObjectStore(URI url, S3Config config) {
        this.bucket = url.getHost();
        String path = url.getPath() == null ? "" : url.getPath().replaceAll("^/+", "");
        this.prefix = path.isEmpty() || path.endsWith("/") ? path : path + "/";
        this.description = "s3://" + bucket + "/" + prefix + (config.endpoint() == null ? "" : " at " + config.endpoint());
        this.partSize = (int) Math.min(config.partSizeMiB() * (1L << 20), Integer.MAX_VALUE - 8);
        this.concurrency = config.uploadConcurrency();
        this.parts = Executors.newFixedThreadPool(concurrency, r -> {
            Thread t = new Thread(r, "s3-part-upload");
            t.setDaemon(true);
            return t;
        });
        var builder = S3Client.builder()
                .region(Region.of(config.region()))
                .credentialsProvider(credentials(config))
                .forcePathStyle(config.pathStyle())
                .httpClientBuilder(ApacheHttpClient.builder().maxConnections(concurrency + 4))
                .overrideConfiguration(o -> o.retryStrategy(
                        AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(config.maxAttempts()).build()));
        if (config.checksums().equals("when_required")) {
            builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        }
        if (config.endpoint() != null) {
            builder.endpointOverride(URI.create(config.endpoint()));
        }
        this.client = builder.build();
    }

    private static AwsCredentialsProvider credentials(S3Config c) {
        if (c.accessKeyId() == null) {
            return DefaultCredentialsProvider.builder().build();
        }
        if (c.sessionToken() != null && !c.sessionToken().isEmpty()) {
            return StaticCredentialsProvider.create(AwsSessionCredentials.create(
                    c.accessKeyId().reveal(), c.secretAccessKey().reveal(), c.sessionToken().reveal()));
        }
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(c.accessKeyId().reveal(), c.secretAccessKey().reveal()));
    }

    @Override
    public String describe() {
        return description;
    }

    /** The underlying client, for tests that inspect the bucket directly (e.g. pending multipart uploads). */
    public S3Client client() {
        return client;
    }

    public String bucket() {
        return bucket;
    }

    @Override
    public Upload create(String key) {
        return new MultipartUpload(prefix + key);
    }

    @Override
    public InputStream open(String key) {
        try {
            return client.getObject(b -> b.bucket(bucket).key(prefix + key));
        } catch (NoSuchKeyException e) {
            throw new NoSuchObjectException(description, key);
        } catch (SdkException e) {
            throw failure("read", key, e);
        }
    }

    @Override
    public Optional<Long> size(String key) {
        try {
            return Optional.of(client.headObject(b -> b.bucket(bucket).key(prefix + key)).contentLength());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("stat", key, e);
        } catch (SdkException e) {
            throw failure("stat", key, e);
        }
    }

    @Override
    public List<ObjectInfo> list(String keyPrefix) {
        List<ObjectInfo> out = new ArrayList<>();
        try {
            for (S3Object o : client.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix + keyPrefix)).contents()) {
                out.add(new ObjectInfo(o.key().substring(prefix.length()), o.size()));
            }
        } catch (SdkException e) {
            throw failure("list", keyPrefix, e);
        }
        out.sort(Comparator.comparing(ObjectInfo::key));
        return out;
    }

    @Override
    public void delete(String key) {
        try {
            client.deleteObject(b -> b.bucket(bucket).key(prefix + key));
        } catch (SdkException e) {
            throw failure("delete", key, e);
        }
    }

    @Override
    public void check() {
        try {
            client.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).maxKeys(1));
        } catch (NoSuchBucketException e) {
            throw new DrException(Failure.STORE, description + ": bucket '" + bucket + "' does not exist (create it, or fix repository.url)", e);
        } catch (S3Exception e) {
            if (e.statusCode() == 403 || e.statusCode() == 401) {
                throw new DrException(Failure.STORE, description + " refused the credentials or denied listing the prefix (HTTP "
                        + e.statusCode() + ", " + e.awsErrorDetails().errorCode() + "): check the access key, secret and bucket policy", e);
            }
            throw new DrException(Failure.STORE, description + " answered with an error: " + e.getMessage(), e);
        } catch (SdkException e) {
            throw new DrException(Failure.STORE, "cannot reach " + description + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        parts.shutdownNow();
        client.close();
    }

    private DrException failure(String op, String key, Exception e) {
        return new DrException(Failure.STORE, op + " of " + key + " in " + description + " failed: " + e.getMessage(), e);
    }

    /** The bytes of a part, re-readable for retries, without the copy that {@code RequestBody.fromBytes} makes. */
    private static RequestBody body(byte[] data, int length) {
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, 0, length), length, "application/octet-stream");
    }

    /**
     * Buffers one part at a time; full parts are sent in the background, at most {@code concurrency} at once. Part
     * buffers are recycled: an upload never holds more than {@code concurrency + 1} of them.
     */
    private final class MultipartUpload extends Upload {
        private final String key;
        private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(concurrency + 1);
        private final List<CompletableFuture<CompletedPart>> sent = new ArrayList<>();
        private int allocated = 1;
        private byte[] buffer = new byte[partSize];
        private int filled;
        private String uploadId;
        private volatile Throwable partFailure;

        MultipartUpload(String key) {
            this.key = key;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, buffer.length - filled);
                System.arraycopy(b, off, buffer, filled, n);
                filled += n;
                off += n;
                len -= n;
                if (filled == buffer.length) {
                    sendPart();
                }
            }
        }

        private void sendPart() throws IOException {
            throwIfFailed();
            if (uploadId == null) {
                try {
                    uploadId = client.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
                } catch (SdkException e) {
                    throw new IOException(failure("start multipart upload", key, e).getMessage(), e);
                }
            }
            int partNumber = sent.size() + 1;
            if (partNumber > MAX_PARTS) {
                throw new IOException("object " + key + " exceeds " + MAX_PARTS + " parts; raise repository.s3.partSizeMiB");
            }
            byte[] data = buffer;
            int length = filled;
            sent.add(CompletableFuture.supplyAsync(() -> {
                try {
                    String etag = client.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(partNumber)
                            .contentLength((long) length), body(data, length)).eTag();
                    return CompletedPart.builder().partNumber(partNumber).eTag(etag).build();
                } catch (RuntimeException e) {
                    partFailure = e;
                    throw e;
                } finally {
                    free.offer(data);
                }
            }, parts));
            // Parts may grow so that very large streams stay within the 10,000-part limit.
            int next = partNumber % 1000 == 0 ? (int) Math.min(Math.min(2L * data.length, MAX_PART_BYTES), Integer.MAX_VALUE - 8) : data.length;
            buffer = nextBuffer(next);
            filled = 0;
        }

        /** A free part buffer of at least {@code size} bytes; waits for a part in flight when all are in use. */
        private byte[] nextBuffer(int size) throws IOException {
            byte[] b = free.poll();
            if (b == null && allocated <= concurrency) {
                allocated++;
                return new byte[size];
            }
            try {
                b = b != null ? b : free.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while uploading " + key);
            }
            return b.length >= size ? b : new byte[size];
        }

        private void throwIfFailed() throws IOException {
            Throwable f = partFailure;
            if (f != null) {
                throw new IOException("upload of a part of " + key + " to " + description + " failed: " + f.getMessage(), f);
            }
        }

        @Override
        protected void doCommit() throws IOException {
            try {
                if (uploadId == null) {
                    client.putObject(b -> b.bucket(bucket).key(key).contentLength((long) filled), body(buffer, filled));
                    return;
                }
                if (filled > 0) {
                    sendPart();
                }
                List<CompletedPart> done = new ArrayList<>();
                for (CompletableFuture<CompletedPart> f : sent) {
                    done.add(f.get());
                }
                client.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)
                        .multipartUpload(m -> m.parts(done)));
            } catch (ExecutionException e) {
                abortQuietly();
                throw new IOException("upload of a part of " + key + " to " + description + " failed: " + e.getCause().getMessage(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abortQuietly();
                throw new InterruptedIOException("interrupted while completing " + key);
            } catch (SdkException e) {
                abortQuietly();
                throw new IOException(failure("write", key, e).getMessage(), e);
            } catch (IOException e) {
                abortQuietly();
                throw e;
            } finally {
                buffer = null;
            }
        }

        @Override
        protected void doAbort() {
            abortQuietly();
            buffer = null;
        }

        private void abortQuietly() {
            for (CompletableFuture<CompletedPart> f : sent) {
                try {
                    f.join();
                } catch (RuntimeException ignored) {
                    // the part's failure is already recorded
                }
            }
            if (uploadId != null) {
                String id = uploadId;
                uploadId = null;
                try {
                    client.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(id));
                } catch (SdkException e) {
                    log.warn("could not abort multipart upload {} of {} in {}: {} (a bucket lifecycle rule for incomplete uploads cleans it up)",
                            id, key, description, e.getMessage());
                }
            }
        }
    }
}
