package dev.difydr.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.CompressionConfig;
import dev.difydr.repository.Artifact;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VerifiedPlainInputTest {
    private final byte[] plain = sample();
    private final ByteArrayOutputStream stored = new ByteArrayOutputStream();
    private final Artifact artifact;

    VerifiedPlainInputTest() throws Exception {
        Stored s = new ArtifactPipeline(new CompressionConfig(3, 1)).run(new ByteArrayInputStream(plain), stored, Progress.none());
        artifact = new Artifact("a", "storage", "x/a.tar.zst", s.plainBytes(), s.storedBytes(), s.storedSha256(), s.plainSha256(), "zstd", "none", null);
    }

    @Test
    void givesThePlainBytesOfAnIntactArtifact() throws Exception {
        try (InputStream in = open(stored.toByteArray(), artifact)) {
            assertThat(in.readAllBytes()).isEqualTo(plain);
        }
    }

    @Test
    void skippedBytesStillCountTowardsTheCheck() throws Exception {
        try (VerifiedPlainInput in = open(stored.toByteArray(), artifact)) {
            assertThat(in.skip(plain.length - 10)).isEqualTo(plain.length - 10);
            assertThat(in.readAllBytes()).hasSize(10);
        }
    }

    @Test
    void anotherArtifactsHashFailsAtTheEndOfTheStream() throws Exception {
        Artifact other = new Artifact("a", "storage", "x/a.tar.zst", artifact.plainBytes(), artifact.storedBytes(),
                "0".repeat(64), artifact.plainSha256(), "zstd", "none", null);
        try (VerifiedPlainInput in = open(stored.toByteArray(), other)) {
            assertThatThrownBy(in::readToEnd).isInstanceOfSatisfying(DrException.class, e -> {
                assertThat(e.failure()).isEqualTo(Failure.VERIFY);
                assertThat(e.getMessage()).contains("x/a.tar.zst").contains("0".repeat(64));
            });
        }
    }

    @Test
    void aTruncatedArtifactFailsAsDamaged() {
        byte[] cut = Arrays.copyOf(stored.toByteArray(), stored.size() / 2);
        assertThatThrownBy(() -> {
            try (VerifiedPlainInput in = open(cut, artifact)) {
                in.readToEnd();
            }
        }).isInstanceOfSatisfying(DrException.class, e -> assertThat(e.failure()).isEqualTo(Failure.VERIFY));
    }

    private static VerifiedPlainInput open(byte[] storedBytes, Artifact a) throws java.io.IOException {
        return new ArtifactReader(null, "d", null).openPlain(new ByteArrayInputStream(storedBytes), "b", a, Progress.none());
    }

    private static byte[] sample() {
        byte[] b = new byte[3 * 1024 * 1024 + 5];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) ('a' + r.nextInt(8));
        }
        return b;
    }
}
