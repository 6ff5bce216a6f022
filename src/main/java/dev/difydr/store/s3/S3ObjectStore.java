package dev.difydr.store.s3;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.S3Config;
import dev.difydr.store.NoSuchObjectException;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.PartedUpload;
import dev.difydr.store.Upload;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
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
    private static final int DELETE_BATCH = 1000;

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

    /**
     * DeleteObjects in batches of at most 1,000 keys (S3's limit), quiet mode: the answer lists only the keys S3 could
     * not delete, and any such key fails the whole call, naming them.
     */
    @Override
    public void delete(Collection<String> keys) {
        List<String> all = List.copyOf(keys);
        for (int from = 0; from < all.size(); from += DELETE_BATCH) {
            List<String> batch = all.subList(from, Math.min(all.size(), from + DELETE_BATCH));
            List<ObjectIdentifier> ids = batch.stream().map(k -> ObjectIdentifier.builder().key(prefix + k).build()).toList();
            DeleteObjectsResponse response;
            try {
                response = client.deleteObjects(b -> b.bucket(bucket).delete(d -> d.objects(ids).quiet(true)));
            } catch (SdkException e) {
                throw failure("delete", batch.size() + " objects from " + batch.get(0), e);
            }
            if (response.hasErrors() && !response.errors().isEmpty()) {
                List<String> refused = response.errors().stream().map(this::refusal).toList();
                throw new DrException(Failure.STORE, description + " refused to delete " + refused.size() + " of " + batch.size()
                        + " objects: " + String.join("; ", refused.subList(0, Math.min(20, refused.size())))
                        + (refused.size() > 20 ? "; …" : ""));
            }
        }
    }

    @Override
    public List<PendingUpload> pendingUploads(String keyPrefix) {
        List<PendingUpload> out = new ArrayList<>();
        try {
            for (software.amazon.awssdk.services.s3.model.MultipartUpload u : client.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(prefix + keyPrefix)).uploads()) {
                out.add(new PendingUpload(u.key().substring(prefix.length()), u.uploadId(), u.initiated()));
            }
        } catch (SdkException e) {
            throw failure("list multipart uploads under", keyPrefix, e);
        }
        out.sort(Comparator.comparing(PendingUpload::started, Comparator.nullsFirst(Comparator.naturalOrder())));
        return out;
    }

    @Override
    public void abort(PendingUpload upload) {
        try {
            client.abortMultipartUpload(b -> b.bucket(bucket).key(prefix + upload.key()).uploadId(upload.uploadId()));
        } catch (NoSuchUploadException e) {
            // completed or aborted meanwhile
        } catch (SdkException e) {
            throw failure("abort of multipart upload " + upload.uploadId() + " of", upload.key(), e);
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

    /** One key S3 could not delete, as its answer names it. */
    private String refusal(S3Error e) {
        String key = e.key() != null && e.key().startsWith(prefix) ? e.key().substring(prefix.length()) : e.key();
        return key + " (" + e.code() + ": " + e.message() + ")";
    }

    private DrException failure(String op, String key, Exception e) {
        return new DrException(Failure.STORE, op + " of " + key + " in " + description + " failed: " + e.getMessage(), e);
    }

    /** The bytes of a part, re-readable for retries, without the copy that {@code RequestBody.fromBytes} makes. */
    private static RequestBody body(byte[] data, int length) {
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, 0, length), length, "application/octet-stream");
    }

    /** A multipart upload in S3's protocol; the buffering and the flow are {@link PartedUpload}'s. */
    private final class MultipartUpload extends PartedUpload<CompletedPart> {
        MultipartUpload(String key) {
            super(key, partSize, concurrency, parts, "repository.s3.partSizeMiB");
        }

        @Override
        protected String start() throws IOException {
            try {
                return client.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
            } catch (SdkException e) {
                throw new IOException(failure("start multipart upload", key, e).getMessage(), e);
            }
        }

        @Override
        protected CompletedPart sendPart(String uploadId, int partNumber, byte[] data, int length) {
            String etag = client.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(partNumber)
                    .contentLength((long) length), body(data, length)).eTag();
            return CompletedPart.builder().partNumber(partNumber).eTag(etag).build();
        }

        @Override
        protected void putWhole(byte[] data, int length) throws IOException {
            try {
                client.putObject(b -> b.bucket(bucket).key(key).contentLength((long) length), body(data, length));
            } catch (SdkException e) {
                throw new IOException(failure("write", key, e).getMessage(), e);
            }
        }

        @Override
        protected void complete(String uploadId, List<CompletedPart> done) throws IOException {
            try {
                client.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(done)));
            } catch (SdkException e) {
                throw new IOException(failure("write", key, e).getMessage(), e);
            }
        }

        @Override
        protected void abortUpload(String uploadId) {
            try {
                client.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
            } catch (SdkException e) {
                log.warn("could not abort multipart upload {} of {} in {}: {} (a bucket lifecycle rule for incomplete uploads cleans it up)",
                        uploadId, key, description, e.getMessage());
            }
        }

        @Override
        protected IOException partFailed(Throwable cause) {
            Throwable c = cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null ? cause.getCause() : cause;
            return new IOException("upload of a part of " + key + " to " + description + " failed: " + c.getMessage(), c);
        }
    }
}
