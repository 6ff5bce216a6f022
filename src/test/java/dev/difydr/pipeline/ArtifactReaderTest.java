package dev.difydr.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.CompressionConfig;
import dev.difydr.crypto.Keyring;
import dev.difydr.repository.Artifact;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The one way back from stored bytes: plain and encrypted artifacts, and every way the stored bytes can be wrong. */
class ArtifactReaderTest {
    private static final int SEGMENT = 1 << 20;
    private static final String BACKUP = "20261205T020000Z-abcdef";
    private static final String PATH = "prod/backups/" + BACKUP + "/storage/app.tar.zst.enc";

    private final Keyring keyring = new Keyring(Keyring.generate());
    /** Incompressible, so that the ciphertext spans several 1 MiB segments. */
    private final byte[] plain = random(5 * SEGMENT + 123);

    @Test
    void readsBackWhatThePipelineWroteAndFindsBothHashes() throws Exception {
        Written w = write(plain, null, "prod", BACKUP, "prod/backups/" + BACKUP + "/storage/app.tar.zst");
        ArtifactReader reader = new ArtifactReader(null, "prod", null);
        ArtifactReader.Reread r = reader.reread(new ByteArrayInputStream(w.bytes), BACKUP, w.artifact, OutputStream.nullOutputStream(), Progress.none(), true);
        assertThat(r).isEqualTo(new ArtifactReader.Reread(w.artifact.storedBytes(), w.artifact.sha256(), plain.length, w.artifact.plainSha256(), null));

        byte[] damaged = w.bytes.clone();
        damaged[damaged.length / 2] ^= 0x55;
        ArtifactReader.Reread bad = reader.reread(new ByteArrayInputStream(damaged), BACKUP, w.artifact, OutputStream.nullOutputStream(), Progress.none(), true);
        assertThat(bad.contentError()).startsWith("does not decompress");
        assertThat(bad.storedBytes()).as("the rest is still hashed").isEqualTo(w.bytes.length);
        assertThat(bad.storedSha256()).isEqualTo(sha256(damaged));

        InputStream failing = new java.io.SequenceInputStream(new ByteArrayInputStream(w.bytes, 0, 1000), new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("connection reset");
            }
        });
        assertThatThrownBy(() -> reader.reread(failing, BACKUP, w.artifact, OutputStream.nullOutputStream(), Progress.none(), true))
                .isInstanceOf(IOException.class).hasMessage("connection reset");
    }

    @Test
    void anEncryptedArtifactIsNotItsZstdFrameAndDecryptsBoundToItsPlace() throws Exception {
        Written w = write(plain, keyring, "prod", BACKUP, PATH);
        assertThat(w.artifact.encryption()).isEqualTo("AES256_GCM_HKDF_1MB");
        assertThat(w.artifact.keyId()).isEqualTo(keyring.primaryId());
        assertThatThrownBy(() -> com.github.luben.zstd.Zstd.decompress(w.bytes, plain.length)).as("not a zstd frame without the key")
                .isInstanceOf(RuntimeException.class);

        ArtifactReader reader = new ArtifactReader(null, "prod", keyring);
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        reader.reread(new ByteArrayInputStream(w.bytes), BACKUP, w.artifact, back, Progress.none(), true).requireMatches(w.artifact);
        assertThat(back.toByteArray()).isEqualTo(plain);
        try (VerifiedPlainInput in = reader.openPlain(new ByteArrayInputStream(w.bytes), BACKUP, w.artifact, Progress.none())) {
            assertThat(in.readAllBytes()).isEqualTo(plain);
        }
    }

    @Test
    void everyChangeToTheCiphertextIsRefusedNamingTheArtifact() throws Exception {
        Written w = write(plain, keyring, "prod", BACKUP, PATH);
        ArtifactReader reader = new ArtifactReader(null, "prod", keyring);

        byte[] flipped = w.bytes.clone();
        flipped[3 * SEGMENT + 17] ^= 0x01;
        byte[] truncatedAtSegment = Arrays.copyOf(w.bytes, 3 * SEGMENT);
        byte[] swapped = w.bytes.clone();
        System.arraycopy(w.bytes, SEGMENT, swapped, 2 * SEGMENT, SEGMENT);
        System.arraycopy(w.bytes, 2 * SEGMENT, swapped, SEGMENT, SEGMENT);
        byte[] header = w.bytes.clone();
        header[5] ^= 0x40;
        for (byte[] bad : new byte[][] {flipped, truncatedAtSegment, swapped, header}) {
            // Found even when the manifest's stored sha256 is made to match the changed bytes.
            Artifact forged = withStored(w.artifact, bad);
            ArtifactReader.Reread r = reader.reread(new ByteArrayInputStream(bad), BACKUP, forged, OutputStream.nullOutputStream(), Progress.none(), true);
            assertThat(r.contentError()).startsWith("does not decrypt under key " + keyring.primaryId());
            assertThat(r.storedBytes()).as("the rest is still hashed").isEqualTo(bad.length);
            assertThat(r.storedSha256()).isEqualTo(sha256(bad));
            assertThatThrownBy(() -> r.requireMatches(forged)).isInstanceOfSatisfying(DrException.class, e -> {
                assertThat(e.failure()).isEqualTo(Failure.VERIFY);
                assertThat(e.getMessage()).contains(PATH);
            });
            assertThatThrownBy(() -> {
                try (VerifiedPlainInput in = reader.openPlain(new ByteArrayInputStream(bad), BACKUP, forged, Progress.none())) {
                    in.readToEnd();
                }
            }).isInstanceOfSatisfying(DrException.class, e -> assertThat(e.getMessage()).contains(PATH).contains("does not decrypt"));
        }
    }

    @Test
    void aFailureToReadAnEncryptedArtifactIsThrownNotTakenForBadBytes() throws Exception {
        Written w = write(plain, keyring, "prod", BACKUP, PATH);
        ArtifactReader reader = new ArtifactReader(null, "prod", keyring);
        for (int cut : new int[] {0, 20, SEGMENT + 1000}) {
            InputStream failing = new java.io.SequenceInputStream(new ByteArrayInputStream(w.bytes, 0, cut), new InputStream() {
                @Override
                public int read() throws IOException {
                    throw new IOException("connection reset");
                }
            });
            assertThatThrownBy(() -> reader.reread(failing, BACKUP, w.artifact, OutputStream.nullOutputStream(), Progress.none(), true))
                    .as("cut after %d bytes", cut).isInstanceOf(IOException.class).hasMessage("connection reset");
        }
    }

    @Test
    void anArtifactMovedToAnotherBackupPathOrDeploymentDoesNotDecrypt() throws Exception {
        Written w = write(plain, keyring, "prod", BACKUP, PATH);
        String otherBackup = "20261206T020000Z-zzzzzz";
        String otherPath = PATH.replace(BACKUP, otherBackup);
        Artifact moved = new Artifact("app", "storage", otherPath, w.artifact.plainBytes(), w.artifact.storedBytes(), w.artifact.sha256(),
                w.artifact.plainSha256(), "zstd", w.artifact.encryption(), w.artifact.keyId());
        assertThat(new ArtifactReader(null, "prod", keyring).reread(new ByteArrayInputStream(w.bytes), otherBackup, moved,
                OutputStream.nullOutputStream(), Progress.none(), true).contentError()).startsWith("does not decrypt");
        assertThat(new ArtifactReader(null, "staging", keyring).reread(new ByteArrayInputStream(w.bytes), BACKUP, w.artifact,
                OutputStream.nullOutputStream(), Progress.none(), true).contentError()).startsWith("does not decrypt");
    }

    @Test
    void aWrongOrMissingKeyIsRefusedBeforeAnythingIsRead() throws Exception {
        Written w = write(plain, keyring, "prod", BACKUP, PATH);
        Keyring other = new Keyring(Keyring.generate());
        assertThatThrownBy(() -> new ArtifactReader(null, "prod", other).openPlain(new ByteArrayInputStream(w.bytes), BACKUP, w.artifact, Progress.none()))
                .isInstanceOfSatisfying(DrException.class, e -> {
                    assertThat(e.failure()).isEqualTo(Failure.CONFIG);
                    assertThat(e.getMessage()).contains(PATH).contains("key " + keyring.primaryId()).contains("lacks");
                });
        assertThatThrownBy(() -> new ArtifactReader(null, "prod", null).openPlain(new ByteArrayInputStream(w.bytes), BACKUP, w.artifact, Progress.none()))
                .isInstanceOfSatisfying(DrException.class, e -> assertThat(e.getMessage()).contains(PATH).contains("no encryption.keyset"));
        // A key with the same id but other key material: the header does not authenticate.
        Keyring rotated = new Keyring(Keyring.rotate(keyring.keyset()));
        assertThat(new ArtifactReader(null, "prod", rotated).reread(new ByteArrayInputStream(w.bytes), BACKUP, w.artifact,
                OutputStream.nullOutputStream(), Progress.none(), true).contentError()).as("old keys still decrypt after a rotation").isNull();
    }

    @Test
    void aSealOpensOnlyForItsDocumentContextAndKeyset() {
        byte[] doc = "{\"id\":\"x\"}".getBytes();
        Keyring.Seal seal = keyring.seal("manifest\0prod\0x", doc);
        assertThat(keyring.opens(seal, "manifest\0prod\0x", doc)).isTrue();
        assertThat(keyring.opens(seal, "manifest\0staging\0x", doc)).isFalse();
        assertThat(keyring.opens(seal, "manifest\0prod\0x", "{\"id\":\"y\"}".getBytes())).isFalse();
        assertThat(new Keyring(Keyring.generate()).opens(seal, "manifest\0prod\0x", doc)).isFalse();
        assertThat(keyring.opens(new Keyring.Seal(seal.keyId(), seal.value().substring(4)), "manifest\0prod\0x", doc)).isFalse();
        assertThat(new Keyring(Keyring.rotate(keyring.keyset())).opens(seal, "manifest\0prod\0x", doc)).isTrue();
    }

    private record Written(byte[] bytes, Artifact artifact) {
    }

    private static Written write(byte[] plain, Keyring keyring, String deployment, String backup, String path) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Stored s;
        try (ArtifactPipeline.PlainSink out = new ArtifactPipeline(new CompressionConfig(3, 1)).open(sink, Progress.none(),
                keyring == null ? null : new ArtifactPipeline.Encryption(keyring, Keyring.artifactContext(deployment, backup, path)))) {
            out.write(plain, 0, plain.length);
            s = out.finish();
        }
        return new Written(sink.toByteArray(), new Artifact("app", "storage", path, s.plainBytes(), s.storedBytes(), s.storedSha256(),
                s.plainSha256(), "zstd", keyring == null ? Artifact.NONE : Keyring.ALGORITHM, keyring == null ? null : keyring.primaryId()));
    }

    private static Artifact withStored(Artifact a, byte[] stored) {
        return new Artifact(a.name(), a.kind(), a.path(), a.plainBytes(), stored.length, sha256(stored), a.plainSha256(), a.compression(),
                a.encryption(), a.keyId());
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SplittableRandom(11).nextBytes(b);
        return b;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
