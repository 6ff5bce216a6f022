package dev.difydr.repository;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/**
 * The record of a completed backup. It is written after every artifact is stored, and its presence is the only
 * proof that the backup is complete. {@code skipped} lists optional parts that were not there or failed, and why;
 * {@code warnings} what the run found worth an operator's attention (a database Dify reads that the backup lacks);
 * {@code postgres}, {@code redis} and {@code storage} (one entry per file storage) are what each source held;
 * {@code kubernetes} names what the encrypted configuration artifact holds (names and keys, never values).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        int formatVersion,
        String id,
        String deployment,
        String toolVersion,
        String status,
        Instant startedAt,
        Instant finishedAt,
        List<Artifact> artifacts,
        List<Skipped> skipped,
        List<String> warnings,
        PostgresFacts postgres,
        RedisFacts redis,
        List<StorageFacts> storage,
        KubernetesFacts kubernetes) {

    public static final int FORMAT_VERSION = 1;
    public static final String COMPLETED = "completed";

    /** A manifest without Dify's configuration. */
    public Manifest(int formatVersion, String id, String deployment, String toolVersion, String status, Instant startedAt,
                    Instant finishedAt, List<Artifact> artifacts, List<Skipped> skipped, List<String> warnings, PostgresFacts postgres,
                    RedisFacts redis, List<StorageFacts> storage) {
        this(formatVersion, id, deployment, toolVersion, status, startedAt, finishedAt, artifacts, skipped, warnings, postgres, redis,
                storage, null);
    }

    @JsonProperty(access = JsonProperty.Access.READ_ONLY)
    public long storedBytes() {
        return artifacts.stream().mapToLong(Artifact::storedBytes).sum();
    }

    @JsonProperty(access = JsonProperty.Access.READ_ONLY)
    public List<String> components() {
        return artifacts.stream().map(Artifact::kind).distinct().toList();
    }

    public record Skipped(String component, String name, String reason) {
    }
}
