package dev.difydr.verify;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.VerifyRecord;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks a backup against its manifest: every artifact present with its recorded size, and with {@code readData}
 * every byte re-read, decompressed and re-hashed against both recorded SHA-256s. A whole verify (every artifact
 * checked) leaves its verdict in the repository ({@link VerifyRecord}), which {@code prune}'s {@code minKeep} reads.
 */
public final class VerifyRun {
    private static final Logger log = LoggerFactory.getLogger(VerifyRun.class);

    private final Repository repository;
    private final Function<String, Progress> progress;

    public VerifyRun(Repository repository, Function<String, Progress> progress) {
        this.repository = repository;
        this.progress = progress;
    }

    /** Verifies a whole backup and records the verdict. */
    public VerifyResult run(String idOrLatest, boolean readData) {
        VerifyResult result = run(repository.resolve(idOrLatest), a -> readData);
        VerifyRecord record = new VerifyRecord(Instant.now(), readData, result.ok(),
                result.failures().stream().map(c -> c.path() + ": " + c.detail()).toList());
        try {
            repository.recordVerification(new BackupId(result.id()), record);
        } catch (DrException e) {
            // The verdict itself stands; without the record, prune's minKeep does not count this backup as verified.
            log.warn("verify of {} could not record its verdict in the repository: {}", result.id(), e.getMessage());
        }
        return result;
    }

    /** Checks every artifact's size, and re-reads those {@code readData} accepts. */
    public VerifyResult run(Manifest manifest, Predicate<Artifact> readData) {
        List<VerifyResult.Check> checks = new ArrayList<>();
        boolean readAll = true;
        for (Artifact a : manifest.artifacts()) {
            boolean read = readData.test(a);
            readAll &= read;
            checks.add(check(manifest.id(), a, read));
        }
        return new VerifyResult(manifest.id(), readAll, checks);
    }

    private VerifyResult.Check check(String manifestId, Artifact a, boolean readData) {
        Optional<Long> size = repository.store().size(a.path());
        if (size.isEmpty()) {
            return VerifyResult.Check.failed(a, "missing: no object at " + a.path());
        }
        if (size.get() != a.storedBytes()) {
            return VerifyResult.Check.failed(a, "size differs: stored object has " + size.get() + " bytes, manifest records " + a.storedBytes());
        }
        if (!readData) {
            return VerifyResult.Check.ok(a, "present, " + a.storedBytes() + " bytes");
        }
        ArtifactReader.Reread read;
        try (Progress p = progress.apply("verify " + a.name())) {
            read = new ArtifactReader(repository).reread(manifestId, a, OutputStream.nullOutputStream(), p, true);
        } catch (IOException e) {
            throw new DrException(Failure.STORE, "reading " + a.path() + " from " + repository.store().describe() + " failed: " + e.getMessage(), e);
        }
        String undecompressable = read.contentError();
        if (!read.storedSha256().equals(a.sha256())) {
            return VerifyResult.Check.failed(a, "sha256 of stored bytes differs: read " + read.storedSha256() + ", manifest records " + a.sha256()
                    + (undecompressable == null ? "" : "; " + undecompressable));
        }
        if (undecompressable != null) {
            return VerifyResult.Check.failed(a, undecompressable);
        }
        if (!read.plainSha256().equals(a.plainSha256()) || read.plainBytes() != a.plainBytes()) {
            return VerifyResult.Check.failed(a, "decompressed content differs: read " + read.plainBytes() + " bytes with sha256 "
                    + read.plainSha256() + ", manifest records " + a.plainBytes() + " bytes with sha256 " + a.plainSha256());
        }
        return VerifyResult.Check.ok(a, "read " + a.storedBytes() + " bytes; both sha256 match");
    }
}
