package dev.difydr;

import dev.difydr.backup.BackupComponents;
import dev.difydr.config.CompressionConfig;
import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import dev.difydr.crypto.KeysetFile;
import dev.difydr.crypto.Keyring;
import dev.difydr.pipeline.ArtifactPipeline;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.pipeline.Progress;
import dev.difydr.pipeline.Stored;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.Json;
import dev.difydr.repository.Manifest;
import dev.difydr.source.redis.Crc64;
import dev.difydr.source.redis.RdbReader;
import dev.difydr.source.redis.RedisEndpoint;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.Stores;
import dev.difydr.store.Upload;
import dev.difydr.store.file.FileObjectStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Run once at build time under {@code -XX:ArchiveClassesAtExit}: walks the paths a backup takes (command line,
 * configuration, S3 and file stores, the pipeline, manifests, the JDBC driver, Jedis and the RDB reader) and those of
 * encryption and of reading artifacts back, without any server, so that the class-data-sharing archive holds the
 * classes a real run loads. Not part of the command line.
 */
public final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) {
        try {
            train();
        } catch (Exception | LinkageError e) {
            // A thinner archive only costs start-up time; it must not fail the build.
            System.err.println("class-data-sharing training incomplete: " + e);
        }
    }

    /** Jedis up to the refused connection, and the RDB reader over a one-key RDB. */
    private static void trainRedis(Config parsed) throws IOException {
        try (var ignored = BackupComponents.from(parsed, Set.of("redis")).get(0)) {
            new RedisEndpoint(parsed.redis()).connect().close();
        } catch (RuntimeException expected) {
            // nothing listens there
        }
        ByteArrayOutputStream rdb = new ByteArrayOutputStream();
        rdb.writeBytes("REDIS0010".getBytes(StandardCharsets.US_ASCII));
        rdb.writeBytes(new byte[] {0x00, 0x01, 'k', 0x01, 'v', (byte) 0xFF});
        long crc = Crc64.of(rdb.toByteArray());
        for (int i = 0; i < 8; i++) {
            rdb.write((int) (crc >>> (8 * i)));
        }
        new RdbReader(new ByteArrayInputStream(rdb.toByteArray()), true).read(e -> { });
    }

    /**
     * The paths of an encrypted repository and of every reader: a keyset file written and read back, an artifact
     * encrypted through the pipeline, both artifacts re-read as verify and restore do, a manifest sealed and opened.
     */
    private static void trainEncryption(ObjectStore files, byte[] plain, Artifact clear) throws IOException {
        Keyring keyring = new Keyring(KeysetFile.parse(new KeysetFile(Keyring.generate(), Map.of(), null).write(), null, "training").keyset());
        String backupId = "20260101T000000Z-aaaaaa";
        String path = "a/b.zst.enc";
        Stored stored;
        try (Upload upload = files.create(path);
             ArtifactPipeline.PlainSink sink = new ArtifactPipeline(CompressionConfig.DEFAULT).open(upload, Progress.none(),
                     new ArtifactPipeline.Encryption(keyring, Keyring.artifactContext("cds-training", backupId, path)))) {
            sink.write(plain, 0, plain.length);
            stored = sink.finish();
            upload.commit();
        }
        Artifact encrypted = new Artifact("a", "postgres", path, stored.plainBytes(), stored.storedBytes(), stored.storedSha256(),
                stored.plainSha256(), "zstd", Keyring.ALGORITHM, keyring.primaryId());
        ArtifactReader reader = new ArtifactReader(files, "cds-training", keyring);
        for (Artifact a : List.of(clear, encrypted)) {
            reader.reread(backupId, a, OutputStream.nullOutputStream(), Progress.none(), true).requireMatches(a);
        }
        byte[] document = "{}".getBytes(StandardCharsets.UTF_8);
        keyring.opens(keyring.seal("manifest", document), "manifest", document);
    }

    private static void train() throws Exception {
        Path dir = Files.createTempDirectory("dify-dr-cds-");
        try {
            Path config = dir.resolve("dify-dr.yaml");
            Files.writeString(config, """
                    deployment: cds-training
                    repository:
                      url: s3://training/prefix
                      s3: {endpoint: "http://127.0.0.1:1", accessKeyId: a, secretAccessKey: b, maxAttempts: 1}
                    postgres: {host: 127.0.0.1, port: 1, password: unused}
                    redis: {host: 127.0.0.1, port: 1, password: unused, timeoutSeconds: 1}
                    """);
            StringWriter sink = new StringWriter();
            Main.run(new String[] {"--config", config.toString(), "--json", "config", "check"}, new PrintWriter(sink), new PrintWriter(sink));
            Config parsed = new ConfigLoader().load(config);
            try (ObjectStore s3 = Stores.open(parsed.repository())) {
                s3.put("training", "x".getBytes(StandardCharsets.UTF_8));
            } catch (RuntimeException expected) {
                // nothing listens there: the request path up to the connection is what is wanted
            }
            trainRedis(parsed);
            try (ObjectStore files = new FileObjectStore(dir.resolve("repo"));
                 Upload upload = files.create("a/b.zst")) {
                byte[] plain = "dify-dr class-data-sharing training ".repeat(200_000).getBytes(StandardCharsets.UTF_8);
                var stored = new ArtifactPipeline(CompressionConfig.DEFAULT).run(new ByteArrayInputStream(plain), upload, Progress.none());
                upload.commit();
                Manifest m = new Manifest(Manifest.FORMAT_VERSION, "20260101T000000Z-aaaaaa", "cds-training", Version.current(),
                        Manifest.COMPLETED, Instant.now(), Instant.now(), List.of(new Artifact("a", "postgres", "a/b.zst",
                        stored.plainBytes(), stored.storedBytes(), stored.storedSha256(), stored.plainSha256(), "zstd", "none", null)), null, null, null, null, null);
                Json.MAPPER.readValue(Json.MAPPER.writeValueAsBytes(m), Manifest.class);
                files.list("");
                trainEncryption(files, plain, m.artifacts().get(0));
            }
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
