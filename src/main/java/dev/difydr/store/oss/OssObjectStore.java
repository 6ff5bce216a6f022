package dev.difydr.store.oss;

import com.aliyun.oss.ClientBuilderConfiguration;
import com.aliyun.oss.ClientException;
import com.aliyun.oss.OSS;
import com.aliyun.oss.OSSClientBuilder;
import com.aliyun.oss.OSSException;
import com.aliyun.oss.common.auth.CredentialsProvider;
import com.aliyun.oss.common.auth.DefaultCredentialProvider;
import com.aliyun.oss.common.auth.EnvironmentVariableCredentialsProvider;
import com.aliyun.oss.common.auth.InvalidCredentialsException;
import com.aliyun.oss.common.comm.SignVersion;
import com.aliyun.oss.model.AbortMultipartUploadRequest;
import com.aliyun.oss.model.CompleteMultipartUploadRequest;
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
import dev.difydr.store.StoreErrors;
import dev.difydr.store.Upload;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Objects in an Aliyun OSS bucket under a key prefix, through the official SDK. Streams of unknown length are uploaded
 * as multipart uploads with at most {@code uploadConcurrency} parts in flight (memory is about part size ×
 * (concurrency + 1)); a stream that fits in one part is sent with a single PutObject. Any failure aborts the multipart
 * upload. Buckets are addressed virtual-hosted style, which OSS requires; the SDK itself falls back to path style only
 * for IP endpoints.
 *
 * <p>Failure messages are built from the OSS error code, error message and request id only: the SDK's own exception
 * text includes the raw response, and a SignatureDoesNotMatch response echoes the string to sign, which holds the STS
 * token.
 */
public final class OssObjectStore implements ObjectStore {
    private static final Logger log = LoggerFactory.getLogger(OssObjectStore.class);
    private static final int MAX_PARTS = 10_000;
    private static final long MAX_PART_BYTES = 5L << 30;
    private static final int LIST_PAGE = 1000;
    private static final Set<String> CREDENTIAL_ERRORS = Set.of("AccessDenied", "InvalidAccessKeyId",
            "SignatureDoesNotMatch", "InvalidSecurityToken", "SecurityTokenExpired");

    private final OSS client;
    private final String bucket;
    private final String prefix;
    private final String description;
    private final boolean keysFromEnvironment;
    private final int partSize;
    private final int concurrency;
    private final ExecutorService parts;

    public OssObjectStore(URI url, OssConfig config) {
        this.bucket = url.getHost();
        String path = url.getPath() == null ? "" : url.getPath().replaceAll("^/+", "");
        this.prefix = path.isEmpty() || path.endsWith("/") ? path : path + "/";
        this.description = "oss://" + bucket + "/" + prefix + " at " + config.endpoint();
        this.keysFromEnvironment = config.accessKeyId() == null;
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
                .credentialsProvider(credentials(config))
                .clientConfiguration(conf);
        if (config.region() != null && !config.region().isBlank()) {
            // V4 signatures need the region; without one the SDK's default (V1) still works everywhere.
            conf.setSignatureVersion(SignVersion.V4);
            builder.region(config.region());
        }
        this.client = builder.build();
    }

    private static CredentialsProvider credentials(OssConfig c) {
        if (c.accessKeyId() == null) {
            return new EnvironmentVariableCredentialsProvider();
        }
        if (c.securityToken() != null && !c.securityToken().isEmpty()) {
            return new DefaultCredentialProvider(c.accessKeyId().reveal(), c.accessKeySecret().reveal(), c.securityToken().reveal());
        }
        return new DefaultCredentialProvider(c.accessKeyId().reveal(), c.accessKeySecret().reveal());
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
        if (e instanceof InvalidCredentialsException && keysFromEnvironment) {
            return "no credentials: repository.oss has no accessKeyId/accessKeySecret and the environment variables "
                    + "OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET are not set";
        }
        return e.getMessage();
    }

    /** Turns what a background part upload threw into the message of the whole upload's failure. */
    private IOException partFailed(String key, Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        String why = cause instanceof RuntimeException r ? reason(r) : cause.toString();
        return new IOException("upload of a part of " + key + " to " + description + " failed: " + why,
                cause instanceof ClientException ? cause.getCause() : null);
    }

    /**
     * Buffers one part at a time; full parts are sent in the background, at most {@code concurrency} at once. Part
     * buffers are recycled: an upload never holds more than {@code concurrency + 1} of them.
     */
    private final class MultipartUpload extends Upload {
        private final String objectKey;
        private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(concurrency + 1);
        private final List<CompletableFuture<PartETag>> sent = new ArrayList<>();
        private int allocated = 1;
        private byte[] buffer = new byte[partSize];
        private int filled;
        private String uploadId;
        private volatile Throwable partFailure;

        MultipartUpload(String key) {
            this.objectKey = prefix + key;
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
            Throwable failed = partFailure;
            if (failed != null) {
                throw partFailed(objectKey, failed);
            }
            if (uploadId == null) {
                try {
                    uploadId = client.initiateMultipartUpload(new InitiateMultipartUploadRequest(bucket, objectKey)).getUploadId();
                } catch (OSSException | ClientException | InvalidCredentialsException e) {
                    throw new IOException(failure("start multipart upload", objectKey, e).getMessage(), e instanceof ClientException ? e.getCause() : null);
                }
            }
            int partNumber = sent.size() + 1;
            if (partNumber > MAX_PARTS) {
                throw new IOException("object " + objectKey + " exceeds " + MAX_PARTS + " parts; raise repository.oss.partSizeMiB");
            }
            byte[] data = buffer;
            int length = filled;
            String id = uploadId;
            sent.add(CompletableFuture.supplyAsync(() -> {
                try {
                    // ByteArrayInputStream supports mark/reset, which the SDK needs to resend a part on retry.
                    return client.uploadPart(new UploadPartRequest(bucket, objectKey, id, partNumber,
                            new ByteArrayInputStream(data, 0, length), length)).getPartETag();
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
                throw new InterruptedIOException("interrupted while uploading " + objectKey);
            }
            return b.length >= size ? b : new byte[size];
        }

        @Override
        protected void doCommit() throws IOException {
            try {
                if (uploadId == null) {
                    ObjectMetadata meta = new ObjectMetadata();
                    meta.setContentLength(filled);
                    client.putObject(bucket, objectKey, new ByteArrayInputStream(buffer, 0, filled), meta);
                    return;
                }
                if (filled > 0) {
                    sendPart();
                }
                List<PartETag> done = new ArrayList<>();
                for (CompletableFuture<PartETag> f : sent) {
                    done.add(f.get());
                }
                client.completeMultipartUpload(new CompleteMultipartUploadRequest(bucket, objectKey, uploadId, done));
            } catch (ExecutionException e) {
                abortQuietly();
                throw partFailed(objectKey, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abortQuietly();
                throw new InterruptedIOException("interrupted while completing " + objectKey);
            } catch (OSSException | ClientException | InvalidCredentialsException e) {
                abortQuietly();
                throw new IOException(failure("write", objectKey, e).getMessage(), e instanceof ClientException ? e.getCause() : null);
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
            for (CompletableFuture<PartETag> f : sent) {
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
                    client.abortMultipartUpload(new AbortMultipartUploadRequest(bucket, objectKey, id));
                } catch (OSSException | ClientException | InvalidCredentialsException e) {
                    log.warn("could not abort multipart upload {} of {} in {}: {} (a bucket lifecycle rule for incomplete uploads cleans it up)",
                            id, objectKey, description, reason(e));
                }
            }
        }
    }
}
