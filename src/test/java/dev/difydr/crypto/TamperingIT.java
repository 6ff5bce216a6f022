package dev.difydr.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.streamingaead.PredefinedStreamingAeadParameters;
import dev.difydr.Failure;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Json;
import dev.difydr.repository.Repository;
import dev.difydr.restore.DifyChart;
import dev.difydr.source.storage.PrivkeysCheck;
import dev.difydr.source.storage.TreeSnapshot;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import dev.difydr.testsupport.FakeDifyApi;
import dev.difydr.testsupport.KubeCluster;
import dev.difydr.testsupport.RedisContent;
import dev.difydr.testsupport.RedisDataset;
import dev.difydr.testsupport.RedisServer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import redis.clients.jedis.Jedis;

/**
 * An encrypted backup (PostgreSQL logical, Redis, and a file storage holding a few MiB of incompressible files, so that
 * its artifact spans several 1 MiB segments), read with the wrong keyset or none, and tampered with the ways someone who
 * can write to the repository but has no keyset can: cut, flipped, reordered or swapped-in ciphertext, edited, unsealed
 * or foreign manifests, an edited restore journal. Each case works on its own copy of the repository and runs {@code verify --read-data},
 * {@code drill} and {@code restore --with redis,storage} (against a mock cluster running Dify) through the command
 * line: each must refuse with a non-zero exit code, name the artifact or the backup it refused, and leave every target
 * as it was: the databases on the server, the restore's Redis and storage (which hold someone's data), the drill's
 * scratch Redis and storage, and the cluster. The untouched copy verifies, drills and restores to the source's data.
 */
class TamperingIT {
    private static final int SEGMENT = 1 << 20;
    /** Tink's header starts with its own length, 0x28, as a zstd frame does: all four bytes are compared. */
    private static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD};
    /** In the middle of an incompressible file, so that zstd stores it as it is: only encryption hides it. */
    private static final String MARKER = "tamper-known-plaintext-5e1d";
    private static final String REDIS_MARKER = "redis-known-9c4b";
    private static final String DIFY_HOST = "pg.example.internal:5432";
    private static final String APP_KEY = "app-tamper-key";
    private static final String STORAGE = "storage";

    @TempDir
    static Path tmp;
    static DifyTestbed tb;
    static RedisServer source;
    static Path storage;
    static KeysetHandle keys;
    static Path keyset;
    /** The repository as the backups left it; every case tampers with a copy. */
    static Path pristine;
    /** A completed backup of prod older than {@link #backup}: where 'latest' goes when the newest is damaged. */
    static String older;
    /** The newest backup of prod: the one tampered with. */
    static String backup;
    /** A backup of deployment staging in the same repository, under the same keyset. */
    static String staging;

    static Dify dify;
    /** The restore's targets hold someone's data, which no refused restore may touch. */
    static RedisServer restoreRedis;
    static Path restoreStorage;
    /** The drill's scratch targets: empty, and empty again after any drill. */
    static RedisServer drillRedis;
    static Path drillStorage;
    static int copies;

    @BeforeAll
    static void backUp() throws IOException, InterruptedException {
        tb = DifyTestbed.start(Files.createDirectories(tmp.resolve("testbed")));
        source = RedisServer.start();
        try (Jedis jedis = source.jedis()) {
            RedisDataset.load(jedis);
            jedis.select(0);
            jedis.set("tamper:known", REDIS_MARKER);
        }
        storage = tmp.resolve("app-storage");
        writeStorage(storage);
        keys = Keyring.generate();
        keyset = writeKeyset("keyset.json", keys);
        pristine = tmp.resolve("pristine");
        drillStorage = tmp.resolve("drill-storage");
        older = backUp("prod");
        waitForNextSecond(older);
        staging = backUp("staging");
        waitForNextSecond(staging);
        backup = backUp("prod");

        dify = Dify.start();
        dify.use();
        restoreRedis = RedisServer.options().noPassword().start();
        try (Jedis jedis = restoreRedis.jedis()) {
            jedis.set("someone's", "data");
        }
        restoreStorage = Files.createDirectories(tmp.resolve("restore-storage"));
        Files.writeString(restoreStorage.resolve("kept.txt"), "someone's file");
        drillRedis = RedisServer.options().noPassword().start();
    }

    @AfterAll
    static void stop() {
        System.clearProperty("kubernetes.master");
        for (AutoCloseable c : new AutoCloseable[] {dify, drillRedis, restoreRedis, source, tb}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    // best effort: the next one still closes
                }
            }
        }
    }

    /** A restore or drill that wrongly went ahead leaves its copies; dropped, they do not fail the next case too. */
    @AfterEach
    void dropCopies() {
        tb.dropCopies();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Positive controls: without them a refusal could just be a broken setup.

    @Test
    void anUntouchedCopyVerifiesAndDrillsToTheSourcesData() throws IOException {
        Copy copy = Copy.of("untouched-drill");

        CliRun verify = copy.cli("--json", "verify", backup, "--read-data");
        assertThat(verify.code()).as(verify.everything()).isZero();
        assertThat(DifyTestbed.json(verify.out()).get("artifacts")).hasSize(4).allSatisfy(c -> assertThat(c.get("ok").asBoolean()).isTrue());

        CliRun drill = copy.cli("--json", "drill", backup, "--keep");
        assertThat(drill.code()).as(drill.everything()).isZero();
        JsonNode report = DifyTestbed.json(drill.out());
        try {
            assertThat(report.get("status").asText()).isEqualTo("passed");
            assertThat(report.get("components")).hasSize(2).allSatisfy(c -> assertThat(c.get("restored").asBoolean()).isTrue());
            for (JsonNode d : report.get("databases")) {
                assertThat(tb.pg.comparableDump(d.get("target").asText())).isEqualTo(tb.backedUpDumps.get(d.get("source").asText()));
            }
            sameRedis(drillRedis);
            assertThat(TreeSnapshot.of(drillStorage)).isEqualTo(TreeSnapshot.of(storage));
        } finally {
            for (JsonNode d : report.get("databases")) {
                tb.pg.psql("postgres", "-c", "DROP DATABASE IF EXISTS \"" + d.get("target").asText() + "\"");
            }
            try (Jedis jedis = drillRedis.jedis()) {
                jedis.flushAll();
            }
            deleteTree(drillStorage);
        }
    }

    /**
     * A restore of the untouched copy into a fresh Redis and directory restores the source's data; then its journal,
     * edited, unsealed or moved to another restore's place, is refused by {@code --resume} and {@code --rollback}.
     */
    @Test
    void anUntouchedCopyRestoresToTheSourcesDataAndItsJournalCannotBeEdited() throws IOException {
        Copy copy = Copy.of("untouched-restore");
        RedisServer freshRedis = RedisServer.options().noPassword().start();
        Path freshStorage = copy.dir.resolve("restored-storage");
        Path config = copy.config("prod", keyset, freshRedis, freshStorage);
        try (Dify own = Dify.start()) {
            own.use();
            CliRun run = CliRun.withConfig(config, "--json", "restore", backup, "--yes", "--with", "redis,storage");

            assertThat(run.code()).as(run.everything()).isZero();
            JsonNode journal = DifyTestbed.json(run.out());
            assertThat(journal.get("state").asText()).isEqualTo("completed");
            for (JsonNode d : journal.get("databases")) {
                assertThat(tb.pg.comparableDump(d.get("target").asText())).isEqualTo(tb.backedUpDumps.get(d.get("source").asText()));
            }
            sameRedis(freshRedis);
            assertThat(TreeSnapshot.of(freshStorage)).isEqualTo(TreeSnapshot.of(storage));

            String id = journal.get("id").asText();
            Path local = copy.dir.resolve("state/prod/restores/" + id + "/journal.json");
            Path stored = copy.repo.resolve("prod/restores/" + id + "/journal.json");
            byte[] original = Files.readAllBytes(stored);
            assertThat(Files.readAllBytes(local)).isEqualTo(original);
            assertThat(DifyTestbed.json(new String(original, StandardCharsets.UTF_8)).has(SealedJson.FIELD)).isTrue();
            String clusterBefore = own.state();
            List<String> databasesBefore = tb.databases();
            String liveDump = tb.pg.comparableDump("dify");

            // the untouched journal resumes (there is nothing left to do): the refusals below are the edits'
            CliRun untouched = CliRun.withConfig(config, "restore", "--resume", id);
            assertThat(untouched.code()).as(untouched.everything()).isZero();

            // resumed, this would drop the live database as an unfinished copy
            ObjectNode edited = (ObjectNode) Json.MAPPER.readTree(original);
            edited.put("state", "running");
            ((ObjectNode) edited.withArray("databases").get(0)).put("target", "dify").put("creating", true).put("restored", false);
            Files.write(local, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(edited));
            for (String mode : List.of("--resume", "--rollback")) {
                CliRun refused = CliRun.withConfig(config, "restore", mode, id);
                assertThat(refused.code()).as(refused.everything()).isEqualTo(Failure.VERIFY.exitCode());
                assertThat(refused.err()).contains("the journal of restore " + id + " (" + local + ")", "seal does not match",
                        "cannot be resumed or rolled back from");
            }

            // only the repository's copy, which carries no seal
            Files.delete(local);
            ObjectNode unsealed = (ObjectNode) Json.MAPPER.readTree(original);
            unsealed.remove(SealedJson.FIELD);
            Files.write(stored, Json.MAPPER.writeValueAsBytes(unsealed));
            CliRun noSeal = CliRun.withConfig(config, "restore", "--resume", id);
            assertThat(noSeal.code()).as(noSeal.everything()).isEqualTo(Failure.VERIFY.exitCode());
            assertThat(noSeal.err()).contains("the journal of restore " + id + " (prod/restores/" + id + "/journal.json", "carries no seal");

            // a sealed journal copied to another restore's place
            String other = id.substring(0, id.length() - 6) + "zzzzzz";
            Path moved = copy.repo.resolve("prod/restores/" + other + "/journal.json");
            Files.createDirectories(moved.getParent());
            Files.write(moved, original);
            CliRun elsewhere = CliRun.withConfig(config, "restore", "--resume", other);
            assertThat(elsewhere.code()).as(elsewhere.everything()).isEqualTo(Failure.VERIFY.exitCode());
            assertThat(elsewhere.err()).contains("the journal of restore " + other, "seal does not match");

            assertThat(own.state()).isEqualTo(clusterBefore);
            assertThat(tb.databases()).isEqualTo(databasesBefore);
            assertThat(tb.pg.comparableDump("dify")).isEqualTo(liveDump);
        } finally {
            dify.use();
            freshRedis.close();
            tb.dropCopies();
        }
    }

    @Test
    void encryptedArtifactsAreNeitherZstdFramesNorPlaintext() throws IOException {
        Keyring keyring = new Keyring(keys);
        try (Repository repository = new Repository(new FileObjectStore(pristine), "prod", keyring)) {
            List<Artifact> artifacts = repository.manifest(new BackupId(backup)).artifacts();
            assertThat(artifacts).extracting(Artifact::kind).containsExactly("postgres", "postgres", "redis", STORAGE);
            for (Artifact a : artifacts) {
                assertThat(a.encryption()).isEqualTo(Keyring.ALGORITHM);
                assertThat(a.keyId()).isEqualTo(keyring.primaryId());
                assertThat(a.path()).endsWith(".zst.enc");
                byte[] stored = Files.readAllBytes(pristine.resolve(a.path()));
                assertThat(Arrays.copyOf(stored, 4)).as(a.path()).isNotEqualTo(ZSTD_MAGIC);
                for (String known : List.of(MARKER, REDIS_MARKER, "alembic_version", "BEGIN RSA PRIVATE KEY")) {
                    assertThat(indexOf(stored, known)).as("%s in %s", known, a.path()).isNegative();
                }
            }
            // the same bytes decrypted are a zstd frame that holds the marker as it is, so the checks above could fail
            Artifact app = artifacts.get(3);
            byte[] compressed;
            try (InputStream in = new ArtifactReader(repository).openCompressed(backup, app)) {
                compressed = in.readAllBytes();
            }
            assertThat(Arrays.copyOf(compressed, 4)).isEqualTo(ZSTD_MAGIC);
            assertThat(indexOf(compressed, MARKER)).isNotNegative();
            assertThat(app.storedBytes()).as("several 1 MiB segments").isGreaterThan(5L * SEGMENT);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Keys

    /** A keyset whose key has the backup's key id but other key material: the manifest's seal does not open. */
    @Test
    void aWrongKeyWithTheSameIdIsRefused() throws IOException {
        KeysetHandle wrong = sameIdOtherKey(keys);
        Copy copy = Copy.of("wrong-key");
        Path config = copy.config("prod", writeKeyset("wrong.json", wrong));

        refusedEverywhere(config, backup, Refusal.VERIFY, "backup " + backup, "seal does not match");
        CliRun list = CliRun.withConfig(config, "--json", "list");
        assertThat(DifyTestbed.json(list.out()).get("backups")).hasSize(2).allSatisfy(r -> assertThat(r.get("status").asText()).isEqualTo("damaged"));
        CliRun latest = CliRun.withConfig(config, "show", "latest");
        assertThat(latest.code()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(latest.err()).contains("no completed backup of deployment 'prod'", "2 damaged");
    }

    @Test
    void aKeysetWithoutTheKeyIdIsRefused() throws IOException {
        Copy copy = Copy.of("other-keyset");
        Path config = copy.config("prod", writeKeyset("other.json", Keyring.generate()));

        refusedEverywhere(config, backup, Refusal.VERIFY, "backup " + backup, "sealed under key " + new Keyring(keys).primaryId(),
                "which the keyset lacks");
    }

    /** Without encryption configured the manifests are not checked; the encrypted artifacts are refused, each named. */
    @Test
    void withoutAKeysetTheEncryptedArtifactsAreRefusedByName() throws IOException {
        Copy copy = Copy.of("no-keyset");
        Path config = copy.config("prod", null);

        refusedEverywhere(config, backup, Refusal.CONFIG, "artifact prod/backups/" + backup + "/postgres/", ".zst.enc is encrypted",
                "no encryption.keyset is configured");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Ciphertext

    enum Damage {
        CUT_AT_A_SEGMENT_BOUNDARY, CUT_MID_SEGMENT, ONE_BYTE_FLIPPED, TWO_SEGMENTS_SWAPPED, COPIED_FROM_ANOTHER_BACKUP;

        byte[] apply(byte[] bytes, byte[] sameArtifactOfOlder) {
            return switch (this) {
                case CUT_AT_A_SEGMENT_BOUNDARY -> Arrays.copyOf(bytes, 3 * SEGMENT);
                case CUT_MID_SEGMENT -> Arrays.copyOf(bytes, 3 * SEGMENT + 4321);
                case ONE_BYTE_FLIPPED -> {
                    byte[] out = bytes.clone();
                    out[2 * SEGMENT + 777] ^= 0x01;
                    yield out;
                }
                case TWO_SEGMENTS_SWAPPED -> {
                    byte[] out = bytes.clone();
                    System.arraycopy(bytes, 2 * SEGMENT, out, 3 * SEGMENT, SEGMENT);
                    System.arraycopy(bytes, 3 * SEGMENT, out, 2 * SEGMENT, SEGMENT);
                    yield out;
                }
                case COPIED_FROM_ANOTHER_BACKUP -> sameArtifactOfOlder;
            };
        }

        /** What verify finds first: a cut changes the size, the others keep it (decryption fails on each). */
        String finding() {
            return this == CUT_AT_A_SEGMENT_BOUNDARY || this == CUT_MID_SEGMENT ? "size differs" : "does not decrypt under key";
        }
    }

    /** The manifest is left as it is: the stored bytes no longer match it, nor decrypt. */
    @ParameterizedTest
    @EnumSource(Damage.class)
    void changedCiphertextIsRefusedNamingTheArtifact(Damage damage) throws IOException {
        Copy copy = Copy.of("ciphertext-" + damage);
        Path artifact = copy.artifact(backup, STORAGE);
        byte[] before = Files.readAllBytes(artifact);
        byte[] after = damage.apply(before, Files.readAllBytes(copy.artifact(older, STORAGE)));
        assertThat(after).isNotEqualTo(before);
        assertThat(after.length == before.length).as("only a cut changes the size")
                .isEqualTo(damage != Damage.CUT_AT_A_SEGMENT_BOUNDARY && damage != Damage.CUT_MID_SEGMENT);
        Files.write(artifact, after);
        String path = copy.repo.relativize(artifact).toString();

        boolean sameSize = after.length == before.length;
        refusedEverywhere(copy.config("prod", keyset), backup, sameSize ? Refusal.VERIFY_WHILE_RESTORING_STORAGE : Refusal.VERIFY, path);
        CliRun verify = copy.cli("--json", "verify", backup, "--read-data");
        assertThat(verify.out()).contains(path, damage.finding());
        // told to read every byte first, the drill refuses before it makes anything
        CliRun drill = copy.cli("--json", "drill", backup, "--read-data");
        assertThat(drill.code()).as(drill.everything()).isEqualTo(Failure.VERIFY.exitCode());
        JsonNode report = DifyTestbed.json(drill.out());
        assertThat(report.get("failure").asText()).contains(path);
        assertThat(report.get("steps")).extracting(st -> st.get("name").asText()).containsExactly("preflight", "cleanup");
    }

    /**
     * The same changes, with the artifact's sha256 and size in the manifest rewritten to match the new bytes: without the
     * keyset the manifest cannot be sealed again, so the backup is damaged, listed so, and 'latest' passes over it.
     */
    @ParameterizedTest
    @EnumSource(Damage.class)
    void changedCiphertextWithTheManifestEditedToMatchIsRefusedNamingTheBackup(Damage damage) throws IOException {
        Copy copy = Copy.of("ciphertext-and-manifest-" + damage);
        Path artifact = copy.artifact(backup, STORAGE);
        byte[] after = damage.apply(Files.readAllBytes(artifact), Files.readAllBytes(copy.artifact(older, STORAGE)));
        Files.write(artifact, after);
        ObjectNode manifest = copy.manifest("prod", backup);
        ObjectNode entry = artifactEntry(manifest, STORAGE);
        entry.put("sha256", sha256(after)).put("storedBytes", (long) after.length);
        copy.writeManifest("prod", backup, manifest);

        Path config = copy.config("prod", keyset);
        refusedEverywhere(config, backup, Refusal.VERIFY, "backup " + backup, "is damaged", "seal does not match");
        damagedAndPassedOver(config, backup, "seal does not match");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Manifests

    enum ManifestEdit {
        STORED_BYTES, SHA256, ARTIFACT_REMOVED, ARTIFACT_ADDED, SEAL_REMOVED;

        void apply(Copy copy, ObjectNode manifest) throws IOException {
            ArrayNode artifacts = manifest.withArray("artifacts");
            switch (this) {
                case STORED_BYTES -> artifactEntry(manifest, STORAGE).put("storedBytes", artifactEntry(manifest, STORAGE).get("storedBytes").asLong() + 1);
                case SHA256 -> artifactEntry(manifest, STORAGE).put("sha256", "0".repeat(64));
                case ARTIFACT_REMOVED -> {
                    for (int i = 0; i < artifacts.size(); i++) {
                        if (artifacts.get(i).get("kind").asText().equals("redis")) {
                            artifacts.remove(i);
                            break;
                        }
                    }
                }
                case ARTIFACT_ADDED -> {
                    // an artifact that exists and whose entry is true to its bytes, only under another name
                    ObjectNode extra = artifactEntry(manifest, STORAGE).deepCopy();
                    String path = extra.get("path").asText().replace("/app.tar.zst.enc", "/extra.tar.zst.enc");
                    Files.copy(copy.repo.resolve(extra.get("path").asText()), copy.repo.resolve(path));
                    extra.put("name", "extra").put("path", path);
                    artifacts.add(extra);
                }
                case SEAL_REMOVED -> manifest.remove(SealedJson.FIELD);
            }
        }

        String reason() {
            return this == SEAL_REMOVED ? "carries no seal" : "seal does not match";
        }
    }

    @ParameterizedTest
    @EnumSource(ManifestEdit.class)
    void anEditedManifestIsRefusedListedAsDamagedAndPassedOverByLatest(ManifestEdit edit) throws IOException {
        Copy copy = Copy.of("manifest-" + edit);
        ObjectNode manifest = copy.manifest("prod", backup);
        edit.apply(copy, manifest);
        copy.writeManifest("prod", backup, manifest);

        Path config = copy.config("prod", keyset);
        refusedEverywhere(config, backup, Refusal.VERIFY, "backup " + backup, "is damaged", edit.reason());
        damagedAndPassedOver(config, backup, edit.reason());
    }

    /** The seal is over the canonical form: reformatted and reordered, the manifest is still the one that was sealed. */
    @Test
    void aReformattedManifestStillVerifies() throws IOException {
        Copy copy = Copy.of("manifest-reformatted");
        ObjectNode manifest = copy.manifest("prod", backup);
        ObjectNode reordered = Json.MAPPER.createObjectNode();
        List<String> names = new ArrayList<>();
        manifest.fieldNames().forEachRemaining(names::add);
        Collections.reverse(names);
        names.forEach(n -> reordered.set(n, manifest.get(n)));
        Files.write(copy.repo.resolve("prod/backups/" + backup + "/manifest.json"),
                Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(reordered));

        CliRun verify = copy.cli("--json", "verify", "latest", "--read-data");
        assertThat(verify.code()).as(verify.everything()).isZero();
        assertThat(DifyTestbed.json(verify.out()).get("id").asText()).isEqualTo(backup);
    }

    /** Staging's manifest, sealed by the same keyset, put in place of prod's newest one. */
    @Test
    void aManifestOfAnotherDeploymentInPlaceOfThisOnesIsRefused() throws IOException {
        Copy copy = Copy.of("foreign-manifest");
        Files.copy(copy.repo.resolve("staging/backups/" + staging + "/manifest.json"),
                copy.repo.resolve("prod/backups/" + backup + "/manifest.json"), StandardCopyOption.REPLACE_EXISTING);

        Path config = copy.config("prod", keyset);
        refusedEverywhere(config, backup, Refusal.VERIFY, "backup " + backup, "is damaged", "seal does not match");
        damagedAndPassedOver(config, backup, "seal does not match");
    }

    /** Staging's whole backup (manifest and artifacts) copied into prod's backups under its own id. */
    @Test
    void aBackupOfAnotherDeploymentCopiedInIsRefused() throws IOException {
        Copy copy = Copy.of("foreign-backup");
        copyTree(copy.repo.resolve("staging/backups/" + staging), copy.repo.resolve("prod/backups/" + staging));

        Path config = copy.config("prod", keyset);
        refusedEverywhere(config, staging, Refusal.VERIFY, "backup " + staging, "is damaged", "seal does not match");
        JsonNode rows = DifyTestbed.json(CliRun.withConfig(config, "--json", "list").out()).get("backups");
        assertThat(rows).extracting(r -> r.get("id").asText() + " " + r.get("status").asText())
                .containsExactly(backup + " completed", staging + " damaged", older + " completed");
        CliRun latest = CliRun.withConfig(config, "--json", "show", "latest");
        assertThat(DifyTestbed.json(latest.out()).get("id").asText()).isEqualTo(backup);
    }

    // ---------------------------------------------------------------------------------------------------------------

    /**
     * How verify, drill and restore refuse one kind of tampering: their exit codes, and the step in which the drill
     * fails. A drill checks sizes only, unless --read-data: changed bytes of the same size are found where they are
     * restored, and everything the drill made is removed again.
     */
    private enum Refusal {
        /** A manifest that is not authentic, or a size that differs: nothing is made. */
        VERIFY(Failure.VERIFY, "preflight"),
        /** Same-size bytes that do not decrypt: the drill finds them while restoring the storage. */
        VERIFY_WHILE_RESTORING_STORAGE(Failure.VERIFY, "restore-storage"),
        /** Artifacts this configuration has no key for: nothing is made. */
        CONFIG(Failure.CONFIG, "preflight");

        final Failure failure;
        final String drillFailsIn;

        Refusal(Failure failure, String drillFailsIn) {
            this.failure = failure;
            this.drillFailsIn = drillFailsIn;
        }
    }

    /**
     * {@code verify --read-data}, {@code drill} and {@code restore --with redis,storage} of {@code id} each refuse
     * with the expected exit code, saying every one of {@code named} (on stdout or stderr, not only in the logs), and
     * no target is changed: the restore refuses in preflight, before it stops or writes anything; the drill removes
     * whatever it restored before it found the damage.
     */
    private static void refusedEverywhere(Path config, String id, Refusal refusal, String... named) {
        Targets before = Targets.now();
        CliRun verify = CliRun.withConfig(config, "--json", "verify", id, "--read-data");
        CliRun drill = CliRun.withConfig(config, "--json", "drill", id);
        CliRun restore = CliRun.withConfig(config, "--json", "restore", id, "--yes", "--with", "redis,storage");
        Targets after = Targets.now();

        assertThat(verify.code()).as("verify: %s", verify.everything()).isEqualTo(refusal.failure.exitCode());
        assertThat(verify.out() + verify.err()).as("verify").contains(named);
        assertThat(drill.code()).as("drill: %s", drill.everything()).isEqualTo(refusal.failure.exitCode());
        JsonNode report = DifyTestbed.json(drill.out());
        assertThat(report.get("status").asText()).isEqualTo("failed");
        assertThat(report.get("failure").asText()).as("drill").contains(named);
        assertThat(failedStep(report)).as("the drill's failed step").isEqualTo(refusal.drillFailsIn);
        assertThat(restore.code()).as("restore: %s", restore.everything()).isEqualTo(refusal.failure.exitCode());
        assertThat(restore.out() + restore.err()).as("restore").contains(named);
        assertThat(restore.everything()).as("restore").contains("step preflight: failed").doesNotContain("starting; journal");

        assertThat(after.databases).as("databases on the server").isEqualTo(before.databases);
        assertThat(before.restoreKeys.differences(after.restoreKeys)).as("the restore's Redis").isEmpty();
        assertThat(after.restoreFiles).as("the restore's storage").isEqualTo(before.restoreFiles);
        assertThat(after.drillKeys.values()).as("the drill's scratch Redis").isEmpty();
        assertThat(after.drillFiles).as("the drill's scratch storage").isEmpty();
        assertThat(after.cluster).as("Dify in the cluster").isEqualTo(before.cluster);
    }

    private static String failedStep(JsonNode report) {
        return StreamSupport.stream(report.get("steps").spliterator(), false).filter(s -> s.get("status").asText().equals("failed"))
                .map(s -> s.get("name").asText()).findFirst().orElse(null);
    }

    /** {@code list} shows {@code id} as damaged with {@code reason}; {@code latest} is the older good backup. */
    private static void damagedAndPassedOver(Path config, String id, String reason) {
        CliRun list = CliRun.withConfig(config, "--json", "list");
        assertThat(list.code()).as(list.everything()).isZero();
        JsonNode rows = DifyTestbed.json(list.out()).get("backups");
        JsonNode row = StreamSupport.stream(rows.spliterator(), false).filter(r -> r.get("id").asText().equals(id)).findFirst().orElseThrow();
        assertThat(row.get("status").asText()).isEqualTo("damaged");
        assertThat(row.get("reason").asText()).contains(reason);

        CliRun latest = CliRun.withConfig(config, "--json", "show", "latest");
        assertThat(latest.code()).as(latest.everything()).isZero();
        assertThat(DifyTestbed.json(latest.out()).get("id").asText()).isEqualTo(older);
        CliRun verify = CliRun.withConfig(config, "--json", "verify", "latest");
        assertThat(verify.code()).as(verify.everything()).isZero();
        assertThat(DifyTestbed.json(verify.out()).get("id").asText()).isEqualTo(older);
    }

    /** What a refused command must leave as it was. */
    private record Targets(List<String> databases, RedisContent restoreKeys, Map<String, String> restoreFiles, RedisContent drillKeys,
                           List<String> drillFiles, String cluster) {
        static Targets now() {
            int[] all = IntStream.range(0, 16).toArray();
            try (Jedis restore = restoreRedis.jedis(); Jedis drill = drillRedis.jedis()) {
                return new Targets(tb.databases(), RedisContent.of(restore, all), TreeSnapshot.of(restoreStorage), RedisContent.of(drill, all),
                        listing(drillStorage), dify.state());
            }
        }

        private static List<String> listing(Path dir) {
            if (!Files.exists(dir)) {
                return List.of();
            }
            try (Stream<Path> s = Files.list(dir)) {
                return s.map(Path::toString).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A copy of the pristine repository, and a directory for what a case writes besides (configurations, journals). */
    private record Copy(Path dir, Path repo) {
        static Copy of(String name) throws IOException {
            Path dir = tmp.resolve("cases/" + (++copies) + "-" + name);
            Path repo = dir.resolve("repo");
            copyTree(pristine, repo);
            return new Copy(dir, repo);
        }

        Path config(String deployment, Path keyset) {
            return config(deployment, keyset, restoreRedis, restoreStorage);
        }

        Path config(String deployment, Path keyset, RedisServer restoreRedis, Path restoreStorage) {
            return TamperingIT.config(dir, repo, deployment, keyset, restoreRedis, restoreStorage);
        }

        CliRun cli(String... args) {
            return CliRun.withConfig(config("prod", keyset), args);
        }

        /** The stored file of the backup's artifact of {@code kind} (the first one), as its manifest names it. */
        Path artifact(String id, String kind) throws IOException {
            return repo.resolve(artifactEntry(manifest("prod", id), kind).get("path").asText());
        }

        ObjectNode manifest(String deployment, String id) throws IOException {
            return (ObjectNode) Json.MAPPER.readTree(repo.resolve(deployment + "/backups/" + id + "/manifest.json").toFile());
        }

        void writeManifest(String deployment, String id, ObjectNode manifest) throws IOException {
            Files.write(repo.resolve(deployment + "/backups/" + id + "/manifest.json"), Json.MAPPER.writeValueAsBytes(manifest));
        }
    }

    private static ObjectNode artifactEntry(ObjectNode manifest, String kind) {
        for (JsonNode a : manifest.withArray("artifacts")) {
            if (a.get("kind").asText().equals(kind)) {
                return (ObjectNode) a;
            }
        }
        throw new AssertionError("no " + kind + " artifact in " + manifest);
    }

    /**
     * The configuration of one case: {@code deployment} in the repository at {@code repo}, encrypted with
     * {@code keyset} (none: null), backing up the source PostgreSQL, Redis and storage, restoring into
     * {@code restoreRedis} and {@code restoreStorage}, drilling into the scratch targets, Dify in the mock cluster.
     */
    private static Path config(Path dir, Path repo, String deployment, Path keyset, RedisServer restoreRedis, Path restoreStorage) {
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve(deployment + "-" + (keyset == null ? "none" : keyset.getFileName()) + "-" + restoreRedis.port() + ".yaml");
            String yaml = "deployment: " + deployment + "\nrepository:\n  url: " + repo.toUri() + "\n"
                    + tb.pg.postgresYaml(tb.dir.resolve("pg-password"))
                    + source.yaml(tmp.resolve("redis-password"))
                    + "storage:\n  - {name: app, path: " + storage + "}\n"
                    + (keyset == null ? "" : "encryption:\n  keyset: \"${file:" + keyset + "}\"\n")
                    + """
                    restore:
                      journalDir: %s
                      jobs: 2
                      redis: {host: %s, port: %d}
                      storage: [{name: app, path: %s}]
                    drill:
                      redis: {host: %s, port: %d}
                      storage: [{name: app, path: %s}]
                    kubernetes:
                      namespace: dify
                      release: %s
                      scaleDownTimeoutSeconds: 20
                      rolloutTimeoutSeconds: 20
                      pollSeconds: 0.05
                    smoke:
                      api: %s
                      pluginDaemon: %s
                      appKeySecret: {name: dify-smoke, key: APP_KEY}
                      deadlineSeconds: 5
                      intervalSeconds: 0.1
                    """.formatted(dir.resolve("state"), restoreRedis.host(), restoreRedis.port(), restoreStorage,
                    drillRedis == null ? "127.0.0.1" : drillRedis.host(), drillRedis == null ? 1 : drillRedis.port(), drillStorage,
                    dify == null ? "dify" : dify.chart.release(), dify == null ? "http://127.0.0.1:1" : dify.api.apiUrl(),
                    dify == null ? "http://127.0.0.1:1" : dify.api.pluginDaemonUrl());
            Files.writeString(file, yaml);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String backUp(String deployment) throws IOException {
        Path dir = tmp.resolve("backups");
        Path config = config(dir, pristine, deployment, keyset, source, tmp.resolve("unused"));
        CliRun run = CliRun.withConfig(config, "--json", "backup");
        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode result = DifyTestbed.json(run.out());
        assertThat(result.get("artifacts")).extracting(a -> a.get("kind").asText()).containsExactly("postgres", "postgres", "redis", STORAGE);
        assertThat(result.get("artifacts")).allSatisfy(a -> assertThat(a.get("encryption").asText()).isEqualTo(Keyring.ALGORITHM));
        return result.get("id").asText();
    }

    /**
     * Every tenant's private key, and three files of 2 MiB of random bytes (the middle one holding {@link #MARKER}):
     * the storage artifact spans six 1 MiB segments.
     */
    private static void writeStorage(Path root) throws IOException {
        for (String tenant : tb.pg.psql("dify", "-At", "-c", "SELECT id FROM tenants").strip().split("\n")) {
            Path key = root.resolve(PrivkeysCheck.keyPath(tenant));
            Files.createDirectories(key.getParent());
            Files.writeString(key, "-----BEGIN RSA PRIVATE KEY-----\n" + tenant + "\n-----END RSA PRIVATE KEY-----\n");
        }
        Path uploads = Files.createDirectories(root.resolve("upload_files"));
        SplittableRandom random = new SplittableRandom(20261205);
        for (int i = 0; i < 3; i++) {
            byte[] bytes = new byte[2 * SEGMENT];
            random.nextBytes(bytes);
            if (i == 1) {
                byte[] marker = MARKER.getBytes(StandardCharsets.UTF_8);
                System.arraycopy(marker, 0, bytes, SEGMENT, marker.length);
            }
            Files.write(uploads.resolve("blob-" + i + ".bin"), bytes);
        }
    }

    private static Path writeKeyset(String name, KeysetHandle handle) throws IOException {
        Path file = Files.createDirectories(tmp.resolve("keys")).resolve(name);
        Files.writeString(file, new KeysetFile(handle, Map.of(), null).write());
        return file;
    }

    /** A keyset of one key with the same id as the primary of {@code keyset}, and other key material. */
    private static KeysetHandle sameIdOtherKey(KeysetHandle keyset) {
        try {
            return KeysetHandle.newBuilder()
                    .addEntry(KeysetHandle.generateEntryFromParameters(PredefinedStreamingAeadParameters.AES256_GCM_HKDF_1MB)
                            .withFixedId(keyset.getPrimary().getId()).makePrimary())
                    .build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The source's Redis as it is now (so that both sides' TTLs have run down alike) equals {@code restored}. */
    private static void sameRedis(RedisServer restored) {
        try (Jedis r = restored.jedis(); Jedis now = source.jedis()) {
            assertThat(RedisContent.of(now, RedisDataset.DATABASES).differences(RedisContent.of(r, RedisDataset.DATABASES))).isEmpty();
        }
    }

    private static int indexOf(byte[] haystack, String needle) {
        byte[] n = needle.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i <= haystack.length - n.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (haystack[i + j] != n[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Copies a tree; the copies are the test user's own, whatever modes the originals had (0600 artifacts stay readable). */
    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Collections.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Backup ids have one-second resolution: the next backup must start in a later second to sort after {@code id}. */
    private static void waitForNextSecond(String id) throws InterruptedException {
        Instant idTime = new BackupId(id).time();
        while (!Instant.now().isAfter(idTime.plusSeconds(1))) {
            Thread.sleep(50);
        }
    }

    /** Dify (the douban chart) in a mock cluster run by the fake controller, with a fake API in front of the databases. */
    private record Dify(KubeCluster cluster, FakeDifyApi api, DifyChart chart) implements AutoCloseable {
        static Dify start() {
            DifyChart chart = DifyChart.douban("dify");
            KubeCluster cluster = KubeCluster.start();
            cluster.secret("dify-credentials", KubeCluster.doubanCredentials(DifyTestbed.DIFY_PASSWORD));
            cluster.load(chart.file());
            FakeDifyApi api = FakeDifyApi.start(cluster, chart.api(), chart.apiContainer(), chart.plugin(), chart.pluginContainer(),
                    Map.of(DIFY_HOST, tb.pg)).appKey(APP_KEY);
            cluster.secret("dify-smoke", Map.of("APP_KEY", APP_KEY));
            Dify dify = new Dify(cluster, api, chart);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (cluster.controller().podEnv(chart.api(), chart.apiContainer()) == null) {
                assertThat(System.nanoTime()).as("a running pod of %s", chart.api()).isLessThan(deadline);
                sleep(50);
            }
            return dify;
        }

        /** Points the command line (in this JVM) at this cluster. */
        void use() {
            System.setProperty("kubernetes.master", cluster.url());
            System.setProperty("kubernetes.auth.tryKubeConfig", "false");
            System.setProperty("kubernetes.auth.tryServiceAccount", "false");
        }

        /** What a restore may change: every Deployment's replicas and pod template, ConfigMaps, Secrets and Leases. */
        String state() {
            KubernetesClient k8s = cluster.client();
            List<String> lines = new ArrayList<>();
            for (Deployment d : k8s.apps().deployments().list().getItems()) {
                lines.add(d.getMetadata().getName() + " replicas=" + d.getSpec().getReplicas() + " " + Serialization.asJson(d.getSpec().getTemplate()));
            }
            for (ConfigMap cm : k8s.configMaps().list().getItems()) {
                lines.add("configmap " + cm.getMetadata().getName() + " " + new TreeMap<>(cm.getData() == null ? Map.of() : cm.getData()));
            }
            k8s.secrets().list().getItems().forEach(s -> lines.add("secret " + s.getMetadata().getName() + " "
                    + new TreeMap<>(s.getData() == null ? Map.of() : s.getData())));
            k8s.leases().list().getItems().forEach(l -> lines.add("lease " + l.getMetadata().getName() + " " + Serialization.asJson(l.getSpec())));
            Collections.sort(lines);
            return String.join("\n", lines);
        }

        @Override
        public void close() {
            api.close();
            cluster.close();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
