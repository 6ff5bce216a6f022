package dev.difydr.retention;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.Failure;
import dev.difydr.config.RepositoryConfig;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.ObjectStore.ObjectInfo;
import dev.difydr.store.Stores;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.HandMadeBackups;
import dev.difydr.testsupport.S3ProxyServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code prune} through the command line, on a file repository and on S3 (S3Proxy), with backups written at chosen
 * times through the repository: the plan changes nothing, {@code --yes} leaves exactly the planned backups, runs that
 * never completed go only after the grace period, old unfinished uploads are aborted, and a prune that stops half-way
 * never leaves a listed backup with an artifact missing.
 */
class PruneIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BUCKET = "dify-dr-prune-it";
    private static S3ProxyServer s3;

    @TempDir
    Path dir;

    private final Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    @BeforeAll
    static void startS3() {
        s3 = S3ProxyServer.start();
        s3.createBucket(BUCKET);
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    @AfterEach
    void deleteAgain() {
        s3.refuseDeleting(null);
    }

    /** A repository URL and its settings: a temp directory, or a fresh prefix in the S3Proxy bucket. */
    private String repositoryYaml(String kind) throws IOException {
        if (kind.equals("file")) {
            return "repository: {url: \"" + dir.resolve("repo").toUri() + "\"}\n";
        }
        Path secret = dir.resolve("s3-secret");
        Files.writeString(secret, S3ProxyServer.SECRET_KEY + "\n");
        return """
                repository:
                  url: s3://%s/r-%s
                  s3:
                    endpoint: %s
                    region: %s
                    pathStyle: true
                    accessKeyId: %s
                    secretAccessKey: "${file:%s}"
                """.formatted(BUCKET, UUID.randomUUID(), s3.endpoint(), S3ProxyServer.REGION, S3ProxyServer.ACCESS_KEY, secret);
    }

    private Path config(String kind, String retention) throws IOException {
        Path file = dir.resolve("dify-dr.yaml");
        Files.writeString(file, "deployment: prod\n" + repositoryYaml(kind) + "retention: " + retention + "\n");
        return file;
    }

    private static Repository open(Path config) throws IOException {
        String yaml = Files.readString(config, StandardCharsets.UTF_8);
        var c = new dev.difydr.config.ConfigLoader().parse(yaml, config.toString());
        RepositoryConfig repository = c.repository();
        return new Repository(Stores.open(repository), c.deployment());
    }

    private String backupAt(Repository repository, Instant time) {
        String id = BackupId.at(time).value();
        HandMadeBackups.write(repository, id);
        return id;
    }

    /** What a run that is still going (or died) leaves: an artifact and no manifest. */
    private String incompleteAt(Repository repository, Instant time) {
        BackupId id = BackupId.at(time);
        repository.store().put(repository.layout().postgresDump(id, "dify"), "partial".getBytes(StandardCharsets.UTF_8));
        repository.store().put(repository.layout().redisSnapshot(id, "rdb"), "partial".getBytes(StandardCharsets.UTF_8));
        return id.value();
    }

    private static JsonNode json(CliRun run, int code) throws IOException {
        assertThat(run.code()).as(run.everything()).isEqualTo(code);
        return JSON.readTree(run.out());
    }

    private static Set<String> ids(JsonNode array, String decision) {
        Set<String> out = new TreeSet<>();
        array.forEach(n -> {
            if (decision == null || n.get("decision").asText().equals(decision)) {
                out.add(n.get("id").asText());
            }
        });
        return out;
    }

    private static List<String> keys(Repository repository) {
        return repository.store().list("").stream().map(ObjectInfo::key).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "s3"})
    void theDryRunChangesNothingAndYesLeavesExactlyThePlannedBackups(String kind) throws IOException {
        Path config = config(kind, "{keepLast: 2, keepDaily: 4, minKeep: 1, timeZone: Asia/Shanghai}");
        List<String> daily = new ArrayList<>();
        String damaged;
        String failed;
        String running;
        String dead;
        try (Repository repository = open(config)) {
            for (int i = 0; i < 10; i++) {
                daily.add(backupAt(repository, now.minus(Duration.ofDays(i)).minus(Duration.ofHours(1))));
            }
            // a second backup on the newest day: kept by keepLast, not by keepDaily
            daily.add(1, backupAt(repository, now.minus(Duration.ofHours(2))));
            damaged = backupAt(repository, now.minus(Duration.ofDays(20)));
            repository.store().put(repository.layout().manifest(new BackupId(damaged)), "{not json".getBytes(StandardCharsets.UTF_8));
            failed = BackupId.at(now.minus(Duration.ofDays(3))).value();
            HandMadeBackups.write(repository, failed, new BackupId(failed).time(), "failed");
            running = incompleteAt(repository, now.minus(Duration.ofHours(2)));
            dead = incompleteAt(repository, now.minus(Duration.ofHours(30)));
        }
        // the oldest daily backup passes verify: minKeep 1 keeps it although no rule does
        String verified = daily.get(daily.size() - 1);
        CliRun verify = CliRun.withConfig(config, "verify", verified);
        assertThat(verify.code()).as(verify.everything()).isZero();

        List<String> before;
        try (Repository repository = open(config)) {
            before = keys(repository);
            assertThat(before).contains(repository.layout().verifyRecord(new BackupId(verified)));
        }
        JsonNode plan = json(CliRun.withConfig(config, "--json", "prune"), 0);

        assertThat(plan.get("deployment").asText()).isEqualTo("prod");
        assertThat(plan.get("dryRun").asBoolean()).isTrue();
        assertThat(plan.get("policy").get("keepLast").asInt()).isEqualTo(2);
        assertThat(plan.get("policy").get("timeZone").asText()).isEqualTo("Asia/Shanghai");
        assertThat(plan.get("policy").get("gracePeriod").asText()).isEqualTo("24h");
        Set<String> kept = ids(plan.get("backups"), "keep");
        Set<String> removed = ids(plan.get("backups"), "remove");
        assertThat(kept).contains(daily.get(0), daily.get(1), daily.get(2), daily.get(3), daily.get(4), verified, damaged)
                .hasSize(7);
        assertThat(removed).containsExactlyInAnyOrderElementsOf(daily.subList(5, daily.size() - 1));
        assertThat(plan.get("kept").asInt()).isEqualTo(7);
        assertThat(plan.get("removed").asInt()).isEqualTo(removed.size());
        JsonNode byId = byId(plan.get("backups"));
        assertThat(byId.get(verified).get("reasons")).extracting(JsonNode::asText).containsExactly("minKeep");
        assertThat(byId.get(damaged).get("status").asText()).isEqualTo("damaged");
        assertThat(byId.get(damaged).get("reasons")).extracting(JsonNode::asText).containsExactly("damaged: inspect and delete by hand");
        assertThat(byId.get(daily.get(1)).get("reasons")).extracting(JsonNode::asText).containsExactly("last");
        assertThat(byId.get(daily.get(0)).get("startedAt").asText()).isNotEmpty();
        JsonNode runs = byId(plan.get("incomplete"));
        assertThat(runs.get(running).get("decision").asText()).isEqualTo("keep");
        assertThat(runs.get(running).get("reason").asText()).contains("within the 24h grace period");
        assertThat(runs.get(running).get("objects").asInt()).isEqualTo(2);
        assertThat(runs.get(dead).get("decision").asText()).isEqualTo("remove");
        assertThat(runs.get(failed).get("decision").asText()).isEqualTo("remove");
        assertThat(runs.get(failed).get("status").asText()).isEqualTo("failed");
        assertThat(plan.get("uploadsAborted").asInt()).isZero();
        try (Repository repository = open(config)) {
            assertThat(keys(repository)).as("a dry run deletes nothing").isEqualTo(before);
        }

        JsonNode done = json(CliRun.withConfig(config, "prune", "--yes", "--json"), 0);

        assertThat(done.get("dryRun").asBoolean()).isFalse();
        assertThat(ids(done.get("backups"), "keep")).isEqualTo(kept);
        JsonNode listed = json(CliRun.withConfig(config, "--json", "list"), 0);
        assertThat(ids(listed.get("backups"), null)).isEqualTo(kept);
        JsonNode all = json(CliRun.withConfig(config, "--json", "list", "--all"), 0);
        assertThat(ids(all.get("backups"), null)).isEqualTo(union(kept, Set.of(running)));
        try (Repository repository = open(config)) {
            for (String id : union(removed, Set.of(dead, failed))) {
                assertThat(repository.store().list(repository.layout().backupPrefix(new BackupId(id)))).as(id).isEmpty();
            }
            assertThat(repository.store().list(repository.layout().backupPrefix(new BackupId(running)))).hasSize(2);
            assertThat(repository.verification(new BackupId(verified))).hasValueSatisfying(r -> assertThat(r.passed()).isTrue());
        }
        // a second prune finds nothing more to do
        JsonNode again = json(CliRun.withConfig(config, "--json", "prune", "--yes"), 0);
        assertThat(again.get("removed").asInt()).isZero();
        assertThat(ids(again.get("backups"), "keep")).isEqualTo(kept);
    }

    @Test
    void optionsReplaceTheConfiguredRulesKeyByKey() throws IOException {
        Path config = config("file", "{keepLast: 5}");
        List<String> daily = new ArrayList<>();
        try (Repository repository = open(config)) {
            for (int i = 0; i < 6; i++) {
                daily.add(backupAt(repository, now.minus(Duration.ofDays(i)).minus(Duration.ofHours(1))));
            }
        }
        JsonNode plan = json(CliRun.withConfig(config, "--json", "prune", "--keep-last", "1", "--keep-within", "2d1h"), 0);
        assertThat(ids(plan.get("backups"), "keep")).containsExactlyInAnyOrder(daily.get(0), daily.get(1), daily.get(2));
        assertThat(plan.get("policy").get("keepWithin").asText()).isEqualTo("2d1h");
        assertThat(plan.get("policy").get("keepLast").asInt()).isEqualTo(1);

        CliRun bad = CliRun.withConfig(config, "prune", "--keep-within", "two days");
        assertThat(bad.code()).as(bad.everything()).isEqualTo(Failure.USAGE.exitCode());
        assertThat(bad.everything()).contains("retention.keepWithin");
    }

    @Test
    void unfinishedUploadsOlderThanTheGracePeriodAreAborted() throws Exception {
        Path config = config("s3", "{keepLast: 1, gracePeriod: 3s}");
        String old;
        String young;
        String otherDeployment;
        try (Repository repository = open(config)) {
            backupAt(repository, now.minus(Duration.ofHours(1)));
            String prefix = bucketPrefix(config);
            BackupId crashed = BackupId.at(now.minus(Duration.ofHours(1)));
            old = s3.client().createMultipartUpload(b -> b.bucket(BUCKET).key(prefix + repository.layout().postgresDump(crashed, "dify"))).uploadId();
            otherDeployment = s3.client().createMultipartUpload(b -> b.bucket(BUCKET).key(prefix + "staging/backups/x/postgres/dify.dump.zst")).uploadId();
            Thread.sleep(4_000);
            young = s3.client().createMultipartUpload(b -> b.bucket(BUCKET).key(prefix + repository.layout().redisSnapshot(crashed, "rdb"))).uploadId();
            assertThat(repository.pendingUploads()).extracting(ObjectStore.PendingUpload::uploadId).containsExactlyInAnyOrder(old, young);
        }

        JsonNode plan = json(CliRun.withConfig(config, "--json", "prune"), 0);
        assertThat(plan.get("uploadsAborted").asInt()).isEqualTo(1);
        JsonNode done = json(CliRun.withConfig(config, "--json", "prune", "--yes"), 0);
        assertThat(done.get("uploadsAborted").asInt()).isEqualTo(1);

        String prefix = bucketPrefix(config);
        assertThat(s3.client().listMultipartUploads(b -> b.bucket(BUCKET).prefix(prefix)).uploads())
                .extracting(u -> u.uploadId()).containsExactlyInAnyOrder(young, otherDeployment);
    }

    @Test
    void aPruneStoppedAfterTheManifestsNeverLeavesAListedBackupWithMissingArtifacts() throws IOException {
        Path config = config("s3", "{keepLast: 2}");
        List<String> daily = new ArrayList<>();
        try (Repository repository = open(config)) {
            for (int i = 0; i < 5; i++) {
                daily.add(backupAt(repository, now.minus(Duration.ofDays(i)).minus(Duration.ofHours(1))));
            }
        }
        JsonNode plan = json(CliRun.withConfig(config, "--json", "prune"), 0);
        Set<String> kept = ids(plan.get("backups"), "keep");
        assertThat(kept).containsExactlyInAnyOrder(daily.get(0), daily.get(1));
        // the store deletes the manifests, then refuses the artifacts
        s3.refuseDeleting(".dump.zst");

        CliRun stopped = CliRun.withConfig(config, "prune", "--yes");

        assertThat(stopped.code()).as(stopped.everything()).isEqualTo(Failure.STORE.exitCode());
        assertThat(stopped.err()).contains("refused to delete", "dify.dump.zst");
        JsonNode listed = json(CliRun.withConfig(config, "--json", "list"), 0);
        assertThat(ids(listed.get("backups"), null)).isEqualTo(kept);
        try (Repository repository = open(config)) {
            for (JsonNode b : listed.get("backups")) {
                Manifest m = repository.manifest(new BackupId(b.get("id").asText()));
                m.artifacts().forEach(a -> assertThat(repository.store().size(a.path())).as(a.path()).contains(a.storedBytes()));
            }
        }
        JsonNode all = json(CliRun.withConfig(config, "--json", "list", "--all"), 0);
        assertThat(all.get("backups")).filteredOn(b -> !kept.contains(b.get("id").asText()))
                .extracting(b -> b.get("status").asText()).containsOnly("incomplete").hasSize(3);

        // the next prune collects what was left: those runs are days old
        s3.refuseDeleting(null);
        JsonNode next = json(CliRun.withConfig(config, "--json", "prune", "--yes"), 0);
        assertThat(ids(next.get("incomplete"), "remove")).hasSize(3);
        JsonNode after = json(CliRun.withConfig(config, "--json", "list", "--all"), 0);
        assertThat(ids(after.get("backups"), null)).isEqualTo(kept);
    }

    private static String bucketPrefix(Path config) throws IOException {
        String yaml = Files.readString(config, StandardCharsets.UTF_8);
        int start = yaml.indexOf("s3://" + BUCKET + "/") + ("s3://" + BUCKET + "/").length();
        return yaml.substring(start, yaml.indexOf('\n', start)).strip() + "/";
    }

    private static JsonNode byId(JsonNode array) {
        var out = JSON.createObjectNode();
        array.forEach(n -> out.set(n.get("id").asText(), n));
        return out;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> out = new TreeSet<>(a);
        out.addAll(b);
        return out;
    }
}
