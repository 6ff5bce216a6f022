package dev.difydr.store.oss;

import com.aliyun.oss.ClientBuilderConfiguration;
import com.aliyun.oss.ClientException;
import com.aliyun.oss.OSS;
import com.aliyun.oss.OSSClientBuilder;
import com.aliyun.oss.OSSException;
import com.aliyun.oss.common.auth.CredentialsProvider;
import com.aliyun.oss.common.auth.InvalidCredentialsException;
import com.aliyun.oss.common.comm.SignVersion;
import com.aliyun.oss.model.AbortMultipartUploadRequest;
import com.aliyun.oss.model.CompleteMultipartUploadRequest;
import com.aliyun.oss.model.DeleteObjectsRequest;
import com.aliyun.oss.model.DeleteObjectsResult;
import com.aliyun.oss.model.ListMultipartUploadsRequest;
import com.aliyun.oss.model.MultipartUploadListing;
import com.aliyun.oss.model.InitiateMultipartUploadRequest;
import com.aliyun.oss.model.ListObjectsV2Request;
import com.aliyun.oss.model.ListObjectsV2Result;
import com.aliyun.oss.model.OSSObject;
import com.aliyun.oss.model.OSSObjectSummary;
import com.aliyun.oss.model.ObjectMetadata;
import com.aliyun.oss.model.PartETag;
import com.aliyun.oss.model.UploadPartRequest;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.OssConfig;
import dev.difydr.store.NoSuchObjectException;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.PartedUpload;
import dev.difydr.store.StoreErrors;
import dev.difydr.store.Upload;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Objects in an Aliyun OSS bucket under a key prefix, through the official SDK. Streams of unknown length are uploaded
 * as multipart uploads with at most {@code uploadConcurrency} parts in flight (memory is about part size ×
 * (concurrency + 1)); a stream that fits in one part is sent with a single PutObject. Any failure aborts the multipart
 * upload. Buckets are addressed virtual-hosted style, which OSS requires; the SDK itself falls back to path style only
 * for IP endpoints. Credentials come from the configuration, the environment or RRSA ({@link OssCredentials}).
 *
 * <p>Failure messages are built from the OSS error code, error message and request id only: the SDK's own exception
 * text includes the raw response, and a SignatureDoesNotMatch response echoes the string to sign, which holds the STS
 * token.
 */
public final class OssObjectStore implements ObjectStore {
    private static final Logger log = LoggerFactory.getLogger(OssObjectStore.class);
    private static final int LIST_PAGE = 1000;
    private static final int DELETE_BATCH = 1000;
    private static final Set<String> CREDENTIAL_ERRORS = Set.of("AccessDenied", "InvalidAccessKeyId",
            "SignatureDoesNotMatch", "InvalidSecurityToken", "SecurityTokenExpired");

    private final OSS client;
    private final String bucket;
    private final String prefix;
    private final String description;
    private final CredentialsProvider credentials;
    private final int partSize;
    private final int concurrency;
    private final ExecutorService parts;

    public OssObjectStore(URI url, OssConfig config) {
        this(url, config, System::getenv);
    }

    /** With the environment variables read through {@code env}, for tests that play a pod's environment. */
    public OssObjectStore(URI url, OssConfig config, Function<String, String> env) {
        this.bucket = url.getHost();
        String path = url.getPath() == null ? "" : url.getPath().replaceAll("^/+", "");
        this.prefix = path.isEmpty() || path.endsWith("/") ? path : path + "/";
        this.description = "oss://" + bucket + "/" + prefix + " at " + config.endpoint();
        this.credentials = OssCredentials.choose(config, env);
        this.partSize = (int) Math.min(config.partSizeMiB() * (1L << 20), Integer.MAX_VALUE - 8);
        this.concurrency = config.uploadConcurrency();
        this.parts = Executors.newFixedThreadPool(concurrency, r -> {
            Thread t = new Thread(r, "oss-part-upload");
            t.setDaemon(true);
            return t;
        });
        ClientBuilderConfiguration conf = new ClientBuilderConfiguration();
        conf.setMaxErrorRetry(config.maxAttempts() - 1);
        conf.setMaxConnections(concurrency + 4);
        // The SDK waits 50 s for a connection by default; an unreachable endpoint should fail a check much sooner.
        conf.setConnectionTimeout(10_000);
        var builder = OSSClientBuilder.create()
                .endpoint(config.endpoint())
                .credentialsProvider(credentials)
                .clientConfiguration(conf);
        if (config.region() != null && !config.region().isBlank()) {
            // V4 signatures need the region; without one the SDK's default (V1) still works everywhere.
            conf.setSignatureVersion(SignVersion.V4);
            builder.region(config.region());
        }
        this.client = builder.build();
    }

    @Override
    public String describe() {
        return description;
    }

    /** The underlying client, for tests that inspect the bucket or the client's addressing. */
    public OSS client() {
        return client;
    }

    public String bucket() {
        return bucket;
    }

    @Override
    public Upload create(String key) {
        return new MultipartUpload(key);
    }

    @Override
    public InputStream open(String key) {
        OSSObject object;
        try {
            object = client.getObject(bucket, prefix + key);
        } catch (OSSException e) {
            if ("NoSuchKey".equals(e.getErrorCode())) {
                throw new NoSuchObjectException(description, key);
            }
            throw failure("read", key, e);
        } catch (ClientException | InvalidCredentialsException e) {
            throw failure("read", key, e);
        }
        // Closing the OSSObject, not only its content, hands the connection back to the pool.
        return new FilterInputStream(object.getObjectContent()) {
            @Override
            public void close() throws IOException {
                object.close();
            }
        };
    }

    @Override
    public Optional<Long> size(String key) {
        try {
            return Optional.of(client.getObjectMetadata(bucket, prefix + key).getContentLength());
        } catch (OSSException e) {
            if ("NoSuchKey".equals(e.getErrorCode())) {
                return Optional.empty();
            }
            throw failure("stat", key, e);
        } catch (ClientException | InvalidCredentialsException e) {
            throw failure("stat", key, e);
        }
    }

    @Override
    public List<ObjectInfo> list(String keyPrefix) {
        List<ObjectInfo> out = new ArrayList<>();
        try {
            String token = null;
            do {
                ListObjectsV2Request request = new ListObjectsV2Request(bucket).withPrefix(prefix + keyPrefix)
                        .withMaxKeys(LIST_PAGE).withContinuationToken(token);
                ListObjectsV2Result page = client.listObjectsV2(request);
                for (OSSObjectSummary o : page.getObjectSummaries()) {
                    out.add(new ObjectInfo(o.getKey().substring(prefix.length()), o.getSize()));
                }
                token = page.isTruncated() ? page.getNextContinuationToken() : null;
            } while (token != null);
        } catch (OSSException | ClientException | InvalidCredentialsException e) {
            throw failure("list", keyPrefix, e);
        }
        out.sort(Comparator.comparing(ObjectInfo::key));
        return out;
    }

    @Override
    public void delete(String key) {
        try {
            client.deleteObject(bucket, prefix + key);
        } catch (OSSException e) {
            if (!"NoSuchKey".equals(e.getErrorCode())) {
                throw failure("delete", key, e);
            }
        } catch (ClientException | InvalidCredentialsException e) {
            throw failure("delete", key, e);
        }
    }

    /**
     * DeleteMultipleObjects in batches of at most 1,000 keys (OSS's limit), verbose mode: OSS lists every key it
     * deleted (a missing key counts as deleted), and a requested key it does not list fails the call, naming it.
     */
    @Override
    public void delete(Collection<String> keys) {
        List<String> all = List.copyOf(keys);
        for (int from = 0; from < all.size(); from += DELETE_BATCH) {
            List<String> batch = all.subList(from, Math.min(all.size(), from + DELETE_BATCH));
            DeleteObjectsResult result;
            try {
                result = client.deleteObjects(new DeleteObjectsRequest(bucket)
                        .withKeys(batch.stream().map(k -> prefix + k).toList()).withQuiet(false));
            } catch (OSSException | ClientException | InvalidCredentialsException e) {
                throw failure("delete", batch.size() + " objects from " + batch.get(0), e);
            }
            Set<String> deleted = new HashSet<>(result.getDeletedObjects());
            List<String> left = batch.stream().filter(k -> !deleted.contains(prefix + k)).toList();
            if (!left.isEmpty()) {
                throw new DrException(Failure.STORE, description + " did not confirm deleting " + left.size() + " of " + batch.size()
                        + " objects: " + String.join(", ", left.subList(0, Math.min(20, left.size()))) + (left.size() > 20 ? ", …" : ""));
            }
        }
    }

    @Override
    public List<PendingUpload> pendingUploads(String keyPrefix) {
        List<PendingUpload> out = new ArrayList<>();
        try {
            String keyMarker = null;
            String uploadIdMarker = null;
            MultipartUploadListing page;
            do {
                ListMultipartUploadsRequest request = new ListMultipartUploadsRequest(bucket);
                request.setPrefix(prefix + keyPrefix);
                request.setMaxUploads(LIST_PAGE);
                request.setKeyMarker(keyMarker);
                request.setUploadIdMarker(uploadIdMarker);
                page = client.listMultipartUploads(request);
                for (com.aliyun.oss.model.MultipartUpload u : page.getMultipartUploads()) {
                    out.add(new PendingUpload(u.getKey().substring(prefix.length()), u.getUploadId(),
                            u.getInitiated() == null ? null : u.getInitiated().toInstant()));
                }
                keyMarker = page.getNextKeyMarker();
                uploadIdMarker = page.getNextUploadIdMarker();
            } while (page.isTruncated());
        } catch (OSSException | ClientException | InvalidCredentialsException e) {
            throw failure("list multipart uploads under", keyPrefix, e);
        }
        out.sort(Comparator.comparing(PendingUpload::started, Comparator.nullsFirst(Comparator.naturalOrder())));
        return out;
    }

    @Override
    public void abort(PendingUpload upload) {
        try {
            client.abortMultipartUpload(new AbortMultipartUploadRequest(bucket, prefix + upload.key(), upload.uploadId()));
        } catch (OSSException e) {
            if (!"NoSuchUpload".equals(e.getErrorCode())) {
                throw failure("abort of multipart upload " + upload.uploadId() + " of", upload.key(), e);
            }
        } catch (ClientException | InvalidCredentialsException e) {
            throw failure("abort of multipart upload " + upload.uploadId() + " of", upload.key(), e);
        }
    }

    @Override
    public void check() {
        try {
            client.listObjectsV2(new ListObjectsV2Request(bucket).withPrefix(prefix).withMaxKeys(1));
        } catch (OSSException e) {
            if ("NoSuchBucket".equals(e.getErrorCode())) {
                throw new DrException(Failure.STORE, description + ": bucket '" + bucket
                        + "' does not exist (create it, or fix repository.url; request id " + e.getRequestId() + ")");
            }
            if (CREDENTIAL_ERRORS.contains(e.getErrorCode())) {
                throw new DrException(Failure.STORE, description + " refused the credentials or denied listing the prefix ("
                        + reason(e) + "): check the access key, secret, security token and the bucket's RAM policy");
            }
            throw new DrException(Failure.STORE, description + " answered with an error: " + reason(e));
        } catch (ClientException e) {
            throw new DrException(Failure.STORE, "cannot reach " + description + ": " + reason(e), e.getCause());
        } catch (InvalidCredentialsException e) {
            throw new DrException(Failure.STORE, description + ": " + reason(e));
        }
    }

    @Override
    public void close() {
        parts.shutdownNow();
        client.shutdown();
        if (credentials instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                log.debug("closing the credentials provider of {} failed: {}", description, e.toString());
            }
        }
    }

    private DrException failure(String op, String key, RuntimeException e) {
        return StoreErrors.failed(this, op, key, reason(e), e instanceof ClientException ? e.getCause() : null);
    }

    private String reason(RuntimeException e) {
        if (e instanceof OSSException o) {
            return o.getErrorCode() + ": " + o.getErrorMessage() + " (request id " + o.getRequestId() + ")";
        }
        if (e instanceof ClientException c) {
            return c.getErrorMessage();
        }
        // InvalidCredentialsException: OssCredentials' providers give messages fit to show
        return e.getMessage();
    }

    /** Turns what a background part upload threw into the message of the whole upload's failure. */
    private IOException partFailed(String key, Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        String why = cause instanceof RuntimeException r ? reason(r) : cause.toString();
        return new IOException("upload of a part of " + key + " to " + description + " failed: " + why,
                cause instanceof ClientException ? cause.getCause() : null);
    }

    /** A multipart upload in OSS's protocol; the buffering and the flow are {@link PartedUpload}'s. */
    private final class MultipartUpload extends PartedUpload<PartETag> {
        MultipartUpload(String key) {
            super(prefix + key, partSize, concurrency, parts, "repository.oss.partSizeMiB");
        }

        @Override
        protected String start() throws IOException {
            try {
                return client.initiateMultipartUpload(new InitiateMultipartUploadRequest(bucket, key)).getUploadId();
            } catch (OSSException | ClientException | InvalidCredentialsException e) {
                throw new IOException(failure("start multipart upload", key, e).getMessage(), e instanceof ClientException ? e.getCause() : null);
            }
        }

        @Override
        protected PartETag sendPart(String uploadId, int partNumber, byte[] data, int length) {
            // ByteArrayInputStream supports mark/reset, which the SDK needs to resend a part on retry.
            return client.uploadPart(new UploadPartRequest(bucket, key, uploadId, partNumber,
                    new ByteArrayInputStream(data, 0, length), length)).getPartETag();
        }

        @Override
        protected void putWhole(byte[] data, int length) throws IOException {
            ObjectMetadata meta = new ObjectMetadata();
            meta.setContentLength(length);
            try {
                client.putObject(bucket, key, new ByteArrayInputStream(data, 0, length), meta);
            } catch (OSSException | ClientException | InvalidCredentialsException e) {
                throw new IOException(failure("write", key, e).getMessage(), e instanceof ClientException ? e.getCause() : null);
            }
        }

        @Override
        protected void complete(String uploadId, List<PartETag> done) throws IOException {
            try {
                client.completeMultipartUpload(new CompleteMultipartUploadRequest(bucket, key, uploadId, done));
            } catch (OSSException | ClientException | InvalidCredentialsException e) {
                throw new IOException(failure("write", key, e).getMessage(), e instanceof ClientException ? e.getCause() : null);
            }
        }

        @Override
        protected void abortUpload(String uploadId) {
            try {
                client.abortMultipartUpload(new AbortMultipartUploadRequest(bucket, key, uploadId));
            } catch (OSSException | ClientException | InvalidCredentialsException e) {
                log.warn("could not abort multipart upload {} of {} in {}: {} (a bucket lifecycle rule for incomplete uploads cleans it up)",
                        uploadId, key, description, reason(e));
            }
        }

        @Override
        protected IOException partFailed(Throwable cause) {
            return OssObjectStore.this.partFailed(key, cause);
        }
    }
}
