package dev.difydr.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.config.CompressionConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactPipelineTest {

    @Test
    void producesAStandardZstdFrameAndHashesBothSides(@TempDir Path dir) throws Exception {
        byte[] plain = sample(9 * 1024 * 1024 + 17);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        long[] progressed = {0};
        Progress progress = new Progress() {
            @Override
            public void advance(long bytes) {
                progressed[0] += bytes;
            }

            @Override
            public void close() {
            }
        };
        Stored stored = new ArtifactPipeline(new CompressionConfig(3, 2)).run(new ByteArrayInputStream(plain), sink, progress);

        byte[] out = sink.toByteArray();
        assertThat(stored.plainBytes()).isEqualTo(plain.length);
        assertThat(progressed[0]).isEqualTo(plain.length);
        assertThat(stored.storedBytes()).isEqualTo(out.length).isLessThan(plain.length / 2);
        assertThat(stored.plainSha256()).isEqualTo(sha256(plain));
        assertThat(stored.storedSha256()).isEqualTo(sha256(out));

        // The stored bytes must be readable by the zstd command-line tool, with no dify-dr involved.
        Path file = dir.resolve("a.zst");
        Files.write(file, out);
        Process p = new ProcessBuilder("zstd", "-q", "-dc", file.toString()).start();
        byte[] decoded = p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        assertThat(decoded).isEqualTo(plain);
    }

    @Test
    void emptyStreamIsAValidEmptyFrame() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Stored stored = new ArtifactPipeline(CompressionConfig.DEFAULT).run(new ByteArrayInputStream(new byte[0]), sink, Progress.none());
        assertThat(stored.plainBytes()).isZero();
        assertThat(stored.plainSha256()).isEqualTo(sha256(new byte[0]));
        assertThat(com.github.luben.zstd.Zstd.decompress(sink.toByteArray(), 0)).isEmpty();
    }

    private static byte[] sample(int size) {
        Random r = new Random(42);
        ByteArrayOutputStream b = new ByteArrayOutputStream(size);
        String[] words = {"conversation", "message", "tenant", "workflow", "segment", "数据集", "embedding", "answer"};
        while (b.size() < size) {
            b.writeBytes((words[r.nextInt(words.length)] + " " + r.nextInt(100000) + (r.nextInt(9) == 0 ? "\n" : " "))
                    .getBytes(StandardCharsets.UTF_8));
        }
        return java.util.Arrays.copyOf(b.toByteArray(), size);
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
