package dev.difydr.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.Upload;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.testsupport.HandMadeBackups;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which backup is {@code latest}, and how a listing copes with manifests that lie about themselves or cannot be read. */
class RepositoryTest {
    static final String OLD = "20261120T060000Z-aaaaaa";
    static final String MIDDLE = "20261121T060000Z-bbbbbb";
    static final String NEW = "20261122T060000Z-cccccc";

    @TempDir
    Path root;

    Repository repository;

    @BeforeEach
    void open() {
        repository = new Repository(new FileObjectStore(root), "dify");
    }

    static void backup(Repository repository, String id, Instant started, String status) {
        HandMadeBackups.write(repository, id, started, status);
    }

    static void backup(Repository repository, String id) {
        HandMadeBackups.write(repository, id);
    }

    static void overwriteManifest(Path root, String id, String text) throws IOException {
        Files.writeString(root.resolve("dify/backups/" + id + "/manifest.json"), text);
    }

    @Test
    void latestPassesOverNewerBackupsOfRedisAloneUnlessNoBackupHoldsTheDatabases() {
        HandMadeBackups.writeRedisOnly(repository, MIDDLE);
        HandMadeBackups.writeRedisOnly(repository, NEW);
        assertThat(repository.resolve("latest").id()).as("only Redis backups: the newest").isEqualTo(NEW);

        backup(repository, OLD);

        assertThat(repository.resolve("latest").id()).isEqualTo(OLD);
        assertThat(repository.resolve(NEW).components()).containsExactly("redis");
    }

    @Test
    void latestIsTheNewestIdEvenWhenAnOlderManifestClaimsALaterStart() {
        backup(repository, OLD, Instant.parse("2099-01-01T00:00:00Z"), Manifest.COMPLETED);
        backup(repository, NEW);

        assertThat(repository.resolve("latest").id()).isEqualTo(NEW);
        List<Repository.Entry> entries = repository.list(false);
        assertThat(entries).extracting(e -> e.id().value()).containsExactly(NEW, OLD);
        Repository.Entry lying = entries.get(1);
        assertThat(lying.status()).isEqualTo("completed");
        assertThat(lying.note()).contains("2099-01-01T00:00:00Z", "outside the second its id names");
        assertThat(lying.startedAt()).as("aged by its id").isEqualTo(new BackupId(OLD).time());
        assertThat(entries.get(0).note()).isNull();
    }

    @Test
    void withinOneSecondTheRecordedStartOrdersAndElseTheId() {
        Instant second = Instant.parse("2026-11-22T06:00:00Z");
        backup(repository, "20261122T060000Z-zzzzzz", second.plusMillis(100), Manifest.COMPLETED);
        backup(repository, "20261122T060000Z-aaaaaa", second.plusMillis(900), Manifest.COMPLETED);
        // A start outside the id's second is not trusted: this one sorts by its id's time and then its suffix.
        backup(repository, "20261122T060000Z-mmmmmm", Instant.parse("2099-01-01T00:00:00Z"), Manifest.COMPLETED);

        assertThat(repository.list(false)).extracting(e -> e.id().value())
                .containsExactly("20261122T060000Z-aaaaaa", "20261122T060000Z-zzzzzz", "20261122T060000Z-mmmmmm");
    }

    @Test
    void aGarbageManifestIsListedAsDamagedAndLatestSkipsIt() throws IOException {
        backup(repository, OLD);
        backup(repository, MIDDLE);
        backup(repository, NEW);
        overwriteManifest(root, NEW, "garbage{");

        List<Repository.Entry> entries = repository.list(false);

        assertThat(entries).extracting(e -> e.id().value()).containsExactly(NEW, MIDDLE, OLD);
        Repository.Entry damaged = entries.get(0);
        assertThat(damaged.status()).isEqualTo("damaged");
        assertThat(damaged.damage()).contains("not a valid manifest").contains("garbage");
        assertThat(damaged.manifest()).isEmpty();
        assertThat(damaged.usable()).isFalse();
        assertThat(entries.get(1).status()).isEqualTo("completed");
        assertThat(repository.resolve("latest").id()).isEqualTo(MIDDLE);

        assertThatThrownBy(() -> repository.resolve(NEW)).isInstanceOf(DrException.class)
                .satisfies(e -> assertThat(((DrException) e).failure()).isEqualTo(Failure.VERIFY))
                .hasMessageContaining("backup " + NEW).hasMessageContaining("is damaged: its manifest is not a valid manifest")
                .hasMessageContaining("cannot be shown, verified, drilled or restored");
    }

    @Test
    void manifestsThatDoNotBelongToTheirKeyOrLackFieldsAreDamaged() throws IOException {
        backup(repository, OLD);
        backup(repository, MIDDLE);
        backup(repository, NEW);
        // a copy of another backup's manifest, and one that parses but says nothing
        overwriteManifest(root, NEW, Files.readString(root.resolve("dify/backups/" + OLD + "/manifest.json")));
        overwriteManifest(root, MIDDLE, "{}");

        List<Repository.Entry> entries = repository.list(false);

        assertThat(entries).extracting(Repository.Entry::status).containsExactly("damaged", "damaged", "completed");
        assertThat(entries.get(0).damage()).isEqualTo("its manifest names backup " + OLD + " but is stored under " + NEW);
        assertThat(entries.get(1).damage()).isEqualTo("its manifest lacks id, status, startedAt, artifacts");
        assertThat(repository.resolve("latest").id()).isEqualTo(OLD);
    }

    @Test
    void aManifestThatCannotBeReadIsDamagedAndTheOthersStillList() {
        backup(repository, OLD);
        backup(repository, NEW);
        String unreadable = repository.layout().manifest(new BackupId(NEW));
        Repository failing = new Repository(new FailingReads(new FileObjectStore(root), unreadable), "dify");

        List<Repository.Entry> entries = failing.list(false);

        assertThat(entries).extracting(Repository.Entry::status).containsExactly("damaged", "completed");
        assertThat(entries.get(0).damage()).isEqualTo("its manifest cannot be read: read of " + unreadable + " failed: disk error");
        assertThat(failing.resolve("latest").id()).isEqualTo(OLD);
        assertThatThrownBy(() -> failing.resolve(NEW)).isInstanceOf(DrException.class)
                .satisfies(e -> assertThat(((DrException) e).failure()).as("the store's failure, as for any read").isEqualTo(Failure.STORE));
    }

    /** A store whose reads of one key fail, as a store with a bad disk block or a refused permission does. */
    private record FailingReads(ObjectStore store, String key) implements ObjectStore {
        @Override
        public String describe() {
            return store.describe();
        }

        @Override
        public Upload create(String k) {
            return store.create(k);
        }

        @Override
        public InputStream open(String k) {
            if (k.equals(key)) {
                throw new DrException(Failure.STORE, "read of " + k + " failed: disk error");
            }
            return store.open(k);
        }

        @Override
        public Optional<Long> size(String k) {
            return store.size(k);
        }

        @Override
        public List<ObjectInfo> list(String prefix) {
            return store.list(prefix);
        }

        @Override
        public void delete(String k) {
            store.delete(k);
        }

        @Override
        public List<PendingUpload> pendingUploads(String prefix) {
            return store.pendingUploads(prefix);
        }

        @Override
        public void abort(PendingUpload upload) {
            store.abort(upload);
        }

        @Override
        public void check() {
            store.check();
        }
    }

    @Test
    void latestSkipsBackupsThatAreNotCompletedAndSaysWhenNothingIsLeft() throws IOException {
        backup(repository, OLD, new BackupId(OLD).time(), "failed");
        backup(repository, NEW);
        overwriteManifest(root, NEW, "");

        assertThat(repository.list(false)).extracting(Repository.Entry::status).containsExactly("damaged", "failed");
        assertThatThrownBy(() -> repository.resolve("latest")).isInstanceOf(DrException.class)
                .hasMessageContaining("no completed backup of deployment 'dify'")
                .hasMessageContaining("2 damaged or not completed: see 'list'");
    }

    @Test
    void withAKeyringOnlyManifestsSealedForThisDeploymentAndBackupCount() throws IOException {
        dev.difydr.crypto.Keyring keyring = new dev.difydr.crypto.Keyring(dev.difydr.crypto.Keyring.generate());
        Repository sealed = new Repository(new FileObjectStore(root), "dify", keyring);
        backup(sealed, OLD);
        backup(sealed, MIDDLE);
        backup(sealed, NEW);
        assertThat(Files.readString(root.resolve("dify/backups/" + NEW + "/manifest.json"))).contains("\"seal\"");
        assertThat(sealed.resolve("latest").id()).isEqualTo(NEW);

        // Edited after it was sealed: one byte of a recorded size.
        Path newest = root.resolve("dify/backups/" + NEW + "/manifest.json");
        String text = Files.readString(newest);
        overwriteManifest(root, NEW, text.replace("\"storedBytes\" : 4", "\"storedBytes\" : 5"));
        assertThat(Files.readString(newest)).isNotEqualTo(text);
        // Copied from another backup of the same deployment (sealed for that backup's id) with its id rewritten.
        overwriteManifest(root, MIDDLE, Files.readString(root.resolve("dify/backups/" + OLD + "/manifest.json")).replace(OLD, MIDDLE));

        List<Repository.Entry> entries = sealed.list(false);
        assertThat(entries).extracting(Repository.Entry::status).containsExactly("damaged", "damaged", "completed");
        assertThat(entries.get(0).damage()).contains("seal does not match");
        assertThat(sealed.resolve("latest").id()).isEqualTo(OLD);
        assertThatThrownBy(() -> sealed.manifest(new BackupId(NEW))).isInstanceOfSatisfying(DrException.class, e -> {
            assertThat(e.failure()).isEqualTo(Failure.VERIFY);
            assertThat(e.getMessage()).contains(NEW).contains("seal does not match");
        });

        // The same manifest, sealed for deployment "dify", is not authentic under deployment "staging".
        Files.createDirectories(root.resolve("staging/backups/" + OLD));
        Files.copy(root.resolve("dify/backups/" + OLD + "/manifest.json"), root.resolve("staging/backups/" + OLD + "/manifest.json"));
        assertThat(new Repository(new FileObjectStore(root), "staging", keyring).list(false).get(0).damage()).contains("seal does not match");

        // Unsealed (written without encryption): damaged under a keyring, fine without one.
        backup(repository, "20261123T060000Z-dddddd");
        assertThat(sealed.list(false).get(0).damage()).contains("carries no seal");
        assertThat(sealed.resolve("latest").id()).isEqualTo(OLD);
        assertThat(repository.resolve("latest").id()).isEqualTo("20261123T060000Z-dddddd");
        // A keyset without the sealing key.
        Repository otherKeys = new Repository(new FileObjectStore(root), "dify", new dev.difydr.crypto.Keyring(dev.difydr.crypto.Keyring.generate()));
        assertThat(otherKeys.list(false).get(3).damage()).contains("which the keyset lacks");
    }

    @Test
    void aVerifyRecordCountsOnlyWhenItsSealOpens() throws IOException {
        Repository sealed = new Repository(new FileObjectStore(root), "dify", new dev.difydr.crypto.Keyring(dev.difydr.crypto.Keyring.generate()));
        backup(sealed, OLD);
        BackupId id = new BackupId(OLD);
        sealed.recordVerification(id, new VerifyRecord(Instant.parse("2026-12-01T00:00:00Z"), true, false, List.of("x: damaged")));
        assertThat(sealed.verification(id)).get().extracting(VerifyRecord::passed).isEqualTo(false);

        Path file = root.resolve("dify/backups/" + OLD + "/verify.json");
        Files.writeString(file, Files.readString(file).replace("\"passed\" : false", "\"passed\" : true"));
        assertThat(sealed.verification(id)).as("a forged 'ok'").isEmpty();
    }
}
