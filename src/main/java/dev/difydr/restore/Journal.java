package dev.difydr.restore;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.difydr.kube.EnvChange;
import dev.difydr.smoke.SmokeResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Everything a restore decided and did, rewritten after every step so that a crashed restore can be resumed or
 * undone from it: the recorded replicas and database settings (the only record of how Dify was), the databases
 * created, each step with its timing, the smoke results and the failure. It holds no secret.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public final class Journal {
    /** Where a restore stands; written in lower case ({@code rolled_back}) in the journal and in JSON output. */
    public enum State {
        PLANNED, RUNNING, COMPLETED, ROLLING_BACK, ROLLED_BACK, ROLLBACK_FAILED, FAILED;

        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public String text() {
            return label().replace('_', ' ');
        }
    }

    /** Where one step stands. */
    public enum StepStatus {
        RUNNING, COMPLETED, FAILED;

        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public int formatVersion = 1;
    public String id;
    public String backupId;
    public String deployment;
    public String toolVersion;
    public String namespace;
    public State state = State.PLANNED;
    public Instant createdAt;
    public Instant finishedAt;
    /** The server the new databases are created on; Dify's DB_HOST/DB_PORT are rewired to it when {@code moveServer}. */
    public String targetHost;
    public int targetPort;
    public boolean moveServer;
    public java.util.Map<String, Integer> replicaOverrides = new java.util.LinkedHashMap<>();
    /** Set when the rollback was asked for ({@code restore --rollback}) rather than caused by a failure. */
    public boolean rollbackRequested;
    public List<TargetDatabase> databases = new ArrayList<>();
    /** Redis and file storages restored with {@code --with}; REPLACE/overwrite only when asked, strict privkeys on request. */
    public List<ComponentTarget> components = new ArrayList<>();
    /** Where {@code --with config} re-creates the backup's ConfigMaps and Secrets: Dify's namespace unless {@code --config-namespace}. */
    public String configNamespace;
    public boolean redisReplace;
    public boolean storageOverwrite;
    public boolean strict;
    public List<RecordedWorkload> workloads = new ArrayList<>();
    public List<String> untouchedWorkloads = new ArrayList<>();
    public List<EnvChange> changes = new ArrayList<>();
    public List<String> smokeChecks = new ArrayList<>();
    /** SECRET_KEY, DB_* and REDIS_* of Dify's containers now against the backup's, by name ("DB_HOST: same"); never a value. */
    public List<String> configComparison = new ArrayList<>();
    public List<String> warnings = new ArrayList<>();
    public List<StepRecord> steps = new ArrayList<>();
    public List<SmokeResult> smoke = new ArrayList<>();
    public List<StepRecord> rollback = new ArrayList<>();
    public List<SmokeResult> rollbackSmoke = new ArrayList<>();
    public String failure;
    public String rollbackFailure;
    /** What a rollback could not undo, one line each: empty when Dify is back as it was. */
    public List<String> notUndone = new ArrayList<>();

    /** A database of the backup and the new database it goes into. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class TargetDatabase {
        public String source;
        public String target;
        public String owner;
        public String artifact;
        /** What the source was to Dify ({@code main}, {@code plugin}), as the backup recorded it. */
        public List<String> roles = new ArrayList<>();
        public long plainBytes;
        /**
         * Set just before CREATE DATABASE. A database of this name found on resume is dropped only when it proves it
         * was made by this run: its comment is this run's {@link DatabaseSteps#marker} and, when the local journal
         * recorded it, its OID is {@code oid}. The journal alone proves nothing: a copy in a bucket can be edited.
         */
        public boolean creating;
        /** The OID of the database this run created, recorded right after CREATE DATABASE. */
        public Long oid;
        public boolean restored;
        public String method;
        public Integer jobs;
        public Boolean validated;
        public Double seconds;

        public TargetDatabase() {
        }

        TargetDatabase(String source, String target, String owner, String artifact, long plainBytes, List<String> roles) {
            this.roles = new ArrayList<>(roles);
            this.source = source;
            this.target = target;
            this.owner = owner;
            this.artifact = artifact;
            this.plainBytes = plainBytes;
        }
    }

    /**
     * A Redis snapshot, a file storage or the Kubernetes configuration of the backup, and where it goes. The target is
     * described, not stored: its connection settings (and secrets) are read from the configuration again on resume.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class ComponentTarget {
        public String kind;
        public String name;
        public String artifact;
        public long plainBytes;
        public String target;
        /** Set just before the first write to the target: a drill empties only scratch targets it began writing to. */
        public boolean started;
        public boolean restored;
        public String detail;
        public Double seconds;
        /** For {@code config}: the ConfigMaps and Secrets this run created ("Secret/name"); a drill deletes only these. */
        public List<String> created;

        public ComponentTarget() {
        }

        public ComponentTarget(String kind, String name, String artifact, long plainBytes, String target) {
            this.kind = kind;
            this.name = name;
            this.artifact = artifact;
            this.plainBytes = plainBytes;
            this.target = target;
        }
    }

    /**
     * A Deployment stopped by the restore: the replicas it had (what a rollback returns it to) and the replicas the
     * restore brings it up to (the same, unless {@code --replicas} said otherwise).
     */
    public record RecordedWorkload(String name, String role, int replicas, int scaleUpTo) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class StepRecord {
        public String name;
        public StepStatus status;
        public Instant startedAt;
        public Instant finishedAt;
        public Double seconds;
        public String detail;
        public String error;

        public StepRecord() {
        }

        StepRecord(String name) {
            this.name = name;
        }
    }

    public StepRecord step(String name) {
        return steps.stream().filter(s -> s.name.equals(name)).findFirst().orElse(null);
    }

    /** Whether the named step of the restore has begun (it may have changed something even if it did not finish). */
    public boolean began(String name) {
        return step(name) != null;
    }
}
