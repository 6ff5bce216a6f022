package dev.difydr.backup;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.CompressionConfig;
import dev.difydr.crypto.Keyring;
import dev.difydr.pipeline.ArtifactPipeline;
import dev.difydr.pipeline.Progress;
import dev.difydr.pipeline.Stored;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.RepositoryLayout;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.Upload;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a component needs to store its artifacts in the backup set being written. */
public final class BackupContext {
    private static final Logger log = LoggerFactory.getLogger(BackupContext.class);

    private final BackupId id;
    private final RepositoryLayout layout;
    private final ObjectStore store;
    private final Keyring keyring;
    private final CompressionConfig compression;
    private final Function<String, Progress> progress;
    private final List<Artifact> artifacts = new ArrayList<>();
    private final List<Manifest.Skipped> skipped = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    /** With a {@code keyring}, every artifact is encrypted under its primary key; without one, stored in the clear. */
    public BackupContext(BackupId id, RepositoryLayout layout, ObjectStore store, Keyring keyring, CompressionConfig compression,
                         Function<String, Progress> progress) {
        this.id = id;
        this.layout = layout;
        this.store = store;
        this.keyring = keyring;
        this.compression = compression;
        this.progress = progress;
    }

    public BackupId id() {
        return id;
    }

    public RepositoryLayout layout() {
        return layout;
    }

    /** Whether {@link #store} encrypts what it stores: the repository has a keyring. */
    public boolean encrypts() {
        return keyring != null;
    }

    /** Every artifact stored so far, in order. */
    public List<Artifact> artifacts() {
        return List.copyOf(artifacts);
    }

    public List<Manifest.Skipped> skipped() {
        return List.copyOf(skipped);
    }

    /** Records a part of the set that is not in it, and why (an optional database that does not exist, say). */
    public void skip(String component, String name, String reason) {
        log.warn("{} '{}' skipped: {}", component, name, reason);
        skipped.add(new Manifest.Skipped(component, name, reason));
    }

    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** Records something the operator should act on that does not fail the set; logged as a WARN line now. */
    public void warn(String warning) {
        log.warn(warning);
        warnings.add(warning);
    }

    /** Writes the plain bytes of one artifact. A failure of the source is a {@link DrException}; an IOException is the store's. */
    @FunctionalInterface
    public interface PlainWriter {
        void writeTo(OutputStream plain) throws IOException;
    }

    /** {@link #store(String, String, String, PlainWriter, Runnable)} with nothing to stop on a signal. */
    public Artifact store(String name, String kind, String key, PlainWriter writer) {
        return store(name, kind, key, writer, () -> { });
    }

    /**
     * Streams what {@code writer} writes through the pipeline into a new object under {@code key} and commits it only
     * when the writer returned normally. On any failure, and when the process is stopped by a signal (a CronJob
     * deadline, Ctrl-C), the upload is aborted; {@code onSignal} stops the source (kills a child process) in that case.
     */
    public Artifact store(String name, String kind, String plainKey, PlainWriter writer, Runnable onSignal) {
        ArtifactPipeline pipeline = new ArtifactPipeline(compression);
        String key = keyring == null ? plainKey : layout.encrypted(plainKey);
        ArtifactPipeline.Encryption encryption = keyring == null ? null
                : new ArtifactPipeline.Encryption(keyring, Keyring.artifactContext(layout.deployment(), id.value(), key));
        log.info("storing {} '{}' as {}", kind, name, key);
        try (Upload upload = store.create(key);
             Progress p = progress.apply(name)) {
            Thread hook = new Thread(() -> {
                log.error("backup {} stopped by a signal: stopping {} '{}' and aborting the upload of {}; no manifest is written",
                        id, kind, name, key);
                onSignal.run();
                upload.abort();
            }, "abort-on-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                Stored stored;
                try (ArtifactPipeline.PlainSink plain = pipeline.open(upload, p, encryption)) {
                    writer.writeTo(plain);
                    stored = plain.finish();
                }
                upload.commit();
                Artifact artifact = new Artifact(name, kind, key, stored.plainBytes(), stored.storedBytes(), stored.storedSha256(),
                        stored.plainSha256(), stored.compression(), keyring == null ? Artifact.NONE : Keyring.ALGORITHM,
                        keyring == null ? null : keyring.primaryId());
                artifacts.add(artifact);
                return artifact;
            } catch (IOException e) {
                throw new DrException(Failure.STORE, "storing " + kind + " '" + name + "' as " + key + " failed: " + e.getMessage(), e);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or has run
                }
            }
        }
    }
}
