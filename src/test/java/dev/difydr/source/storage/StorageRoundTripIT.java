package dev.difydr.source.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.ZstdInputStream;
import dev.difydr.store.s3.S3ObjectStore;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.Commands;
import dev.difydr.testsupport.S3ProxyServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * A storage backed up through the command line comes back identical (paths, types, modes, mtimes, symlink targets,
 * content) when the artifact is unpacked with nothing but {@code zstd} and GNU tar, and when our extractor unpacks it;
 * a bucket prefix goes through the same tar into another prefix.
 */
class StorageRoundTripIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TENANT_A = "6b0a2c4e-3f5d-4c2a-9e1b-7d8f9a0b1c2d";
    private static final String TENANT_B = "0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f";

    private static S3ProxyServer s3;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws IOException {
        s3 = S3ProxyServer.start();
        Files.writeString(tmp.resolve("s3-secret"), s3.secretKey() + "\n");
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void directoryComesBackIdenticalThroughGnuTarAndThroughTheExtractor() throws Exception {
        Path source = tmp.resolve("storage");
        Map<String, String> expectedNames = buildTree(source);
        Map<String, String> original = TreeSnapshot.of(source);
        assertThat(original.keySet()).containsAll(expectedNames.keySet());

        Path repo = tmp.resolve("repo");
        Path config = tmp.resolve("dir.yaml");
        Files.writeString(config, """
                deployment: storage-test
                repository:
                  url: %s
                storage:
                  - name: app
                    path: %s
                """.formatted(repo.toUri(), source));
        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup", "--only", "storage");
        assertThat(run.code()).as("backup; stdout:%n%s%nstderr:%n%s", run.out(), run.err()).isZero();
        JsonNode result = JSON.readTree(run.out());
        JsonNode artifact = result.get("artifacts").get(0);
        assertThat(result.get("artifacts")).hasSize(1);
        assertThat(artifact.get("kind").asText()).isEqualTo("storage");
        assertThat(artifact.get("path").asText()).isEqualTo("storage-test/backups/" + result.get("id").asText() + "/storage/app.tar.zst");
        Path tarZst = repo.resolve(artifact.get("path").asText());

        // (a) the standard tools alone
        Path byGnuTar = tmp.resolve("by-gnu-tar");
        Files.createDirectories(byGnuTar);
        Commands.run(List.of("bash", "-o", "pipefail", "-c", "zstd -q -dc \"$1\" | tar -xf - -C \"$2\"", "untar", tarZst.toString(),
                byGnuTar.toString()), Map.of(), null);
        assertThat(TreeSnapshot.of(byGnuTar)).isEqualTo(original);
        String plainSha = Commands.run(List.of("bash", "-o", "pipefail", "-c", "zstd -q -dc \"$1\" | sha256sum", "sum", tarZst.toString()),
                Map.of(), null).split(" ")[0];
        assertThat(plainSha).isEqualTo(artifact.get("plainSha256").asText());

        // (b) our extractor, twice: the second pass finds everything in place
        Path byExtractor = tmp.resolve("by-extractor");
        StorageRestore.Result first;
        try (InputStream in = new ZstdInputStream(Files.newInputStream(tarZst))) {
            first = StorageRestore.restore(in, StorageTarget.directory(byExtractor), false);
        }
        assertThat(TreeSnapshot.of(byExtractor)).isEqualTo(original);
        assertThat(first.conflicts()).isEmpty();
        long files = original.values().stream().filter(v -> v.startsWith("file ")).count();
        long dirs = original.values().stream().filter(v -> v.startsWith("dir ")).count();
        long links = original.values().stream().filter(v -> v.startsWith("symlink ")).count();
        assertThat(first.files()).isEqualTo(files);
        assertThat(first.directories()).isEqualTo(dirs);
        assertThat(first.symlinks()).isEqualTo(links);

        // a changed file is a conflict and is left alone, unless overwrite is asked for
        Path changed = byExtractor.resolve("a/b/notes.txt");
        Files.writeString(changed, "changed after the backup");
        StorageRestore.Result second;
        try (InputStream in = new ZstdInputStream(Files.newInputStream(tarZst))) {
            second = StorageRestore.restore(in, StorageTarget.directory(byExtractor), false);
        }
        assertThat(second.files()).isZero();
        assertThat(second.conflicts()).extracting(StorageRestore.Conflict::path).containsExactly("a/b/notes.txt");
        assertThat(second.unchanged()).isEqualTo(files - 1 + dirs + links);
        assertThat(Files.readString(changed)).isEqualTo("changed after the backup");
        try (InputStream in = new ZstdInputStream(Files.newInputStream(tarZst))) {
            StorageRestore.Result third = StorageRestore.restore(in, StorageTarget.directory(byExtractor), true);
            assertThat(third.files()).isEqualTo(1);
            assertThat(third.conflicts()).isEmpty();
        }
        assertThat(TreeSnapshot.of(byExtractor)).isEqualTo(original);

        // the manifest counts what the tar holds, privkeys included
        CliRun show = CliRun.of("--config", config.toString(), "--json", "show", "latest");
        assertThat(show.code()).as(show.err()).isZero();
        JsonNode facts = JSON.readTree(show.out()).get("storage").get(0);
        assertThat(facts.get("name").asText()).isEqualTo("app");
        assertThat(facts.get("source").asText()).isEqualTo(source.toString());
        assertThat(facts.get("files").asLong()).isEqualTo(files);
        assertThat(facts.get("directories").asLong()).isEqualTo(dirs);
        assertThat(facts.get("symlinks").asLong()).isEqualTo(links);
        assertThat(facts.get("skipped").asLong()).isZero();
        assertThat(facts.get("tenantsWithPrivkeys").asLong()).isEqualTo(2);
        assertThat(PrivkeysCheck.check(List.of(TENANT_A, TENANT_B), StorageTarget.directory(byGnuTar)::exists, true).complete()).isTrue();
    }

    @Test
    void bucketPrefixGoesThroughTheTarIntoAnotherPrefix() throws Exception {
        s3.createBucket("dify-files");
        Random random = new Random(42);
        Map<String, byte[]> objects = new TreeMap<>();
        objects.put("privkeys/" + TENANT_A + "/private.pem", "-----BEGIN RSA PRIVATE KEY-----\nA\n".getBytes(StandardCharsets.UTF_8));
        objects.put("upload_files/" + TENANT_A + "/报告 2024.pdf", randomBytes(random, 70_000));
        objects.put("upload_files/" + TENANT_A + "/empty.txt", new byte[0]);
        objects.put("image_files/big.bin", randomBytes(random, 6 << 20));
        objects.put("tools/" + "x".repeat(180) + "/" + "y".repeat(120) + ".json", "{}".getBytes(StandardCharsets.UTF_8));
        for (var o : objects.entrySet()) {
            s3.client().putObject(b -> b.bucket("dify-files").key("app/" + o.getKey()), RequestBody.fromBytes(o.getValue()));
        }
        s3.client().putObject(b -> b.bucket("dify-files").key("outside-the-prefix.txt"), RequestBody.fromString("not ours"));

        Path repo = tmp.resolve("bucket-repo");
        Path config = tmp.resolve("bucket.yaml");
        Files.writeString(config, """
                deployment: bucket-test
                repository:
                  url: %s
                storage:
                  - name: app
                    bucket:
                      url: s3://dify-files/app
                      s3:
                        endpoint: %s
                        accessKeyId: %s
                        secretAccessKey: "${file:%s}"
                """.formatted(repo.toUri(), s3.endpoint(), s3.accessKey(), tmp.resolve("s3-secret")));
        CliRun run = CliRun.of("--config", config.toString(), "--json", "backup", "--only", "storage");
        assertThat(run.code()).as("backup; stdout:%n%s%nstderr:%n%s", run.out(), run.err()).isZero();
        assertThat(run.everything()).doesNotContain(s3.secretKey());
        Path tarZst = repo.resolve(JSON.readTree(run.out()).get("artifacts").get(0).get("path").asText());

        // a standard tar: GNU tar unpacks exactly the objects of the prefix
        Path unpacked = tmp.resolve("bucket-unpacked");
        Files.createDirectories(unpacked);
        Commands.run(List.of("bash", "-o", "pipefail", "-c", "zstd -q -dc \"$1\" | tar -xf - -C \"$2\"", "untar", tarZst.toString(),
                unpacked.toString()), Map.of(), null);
        Map<String, String> files = new TreeMap<>();
        TreeSnapshot.of(unpacked).forEach((k, v) -> {
            if (v.startsWith("file ")) {
                files.put(k, v.substring(v.lastIndexOf(' ') + 1));
            }
        });
        assertThat(files).isEqualTo(hashes(objects));

        try (S3ObjectStore restored = new S3ObjectStore(URI.create("s3://dify-files/restored"), s3.s3Config());
             BucketStorage target = new BucketStorage(restored)) {
            StorageRestore.Result first;
            try (InputStream in = new ZstdInputStream(Files.newInputStream(tarZst))) {
                first = StorageRestore.restore(in, target, false);
            }
            assertThat(first.files()).isEqualTo(objects.size());
            assertThat(first.conflicts()).isEmpty();
            Map<String, String> back = new TreeMap<>();
            for (var o : restored.list("")) {
                try (InputStream in = restored.open(o.key())) {
                    back.put(o.key(), TreeSnapshot.sha256(in));
                }
            }
            assertThat(back).isEqualTo(hashes(objects));

            String changedKey = "upload_files/" + TENANT_A + "/empty.txt";
            s3.client().putObject(b -> b.bucket("dify-files").key("restored/" + changedKey), RequestBody.fromString("changed"));
            try (InputStream in = new ZstdInputStream(Files.newInputStream(tarZst))) {
                StorageRestore.Result second = StorageRestore.restore(in, target, false);
                assertThat(second.files()).isZero();
                assertThat(second.unchanged()).isEqualTo(objects.size() - 1);
                assertThat(second.conflicts()).extracting(StorageRestore.Conflict::path).containsExactly(changedKey);
            }
            assertThat(restored.read(changedKey)).isEqualTo("changed".getBytes(StandardCharsets.UTF_8));
            try (InputStream in = new ZstdInputStream(Files.newInputStream(tarZst))) {
                assertThat(StorageRestore.restore(in, target, true).conflicts()).isEmpty();
            }
            assertThat(restored.read(changedKey)).isEmpty();

            PrivkeysCheck.Result check = PrivkeysCheck.check(List.of(TENANT_A, TENANT_B), target::exists, false);
            assertThat(check.missing()).containsExactly(TENANT_B);
            assertThat(check.warning()).contains(TENANT_B).doesNotContain(TENANT_A);
        }
    }

    /** The tree of a Dify storage with everything a tar can get wrong; returns the names that must be in it. */
    private static Map<String, String> buildTree(Path root) throws IOException {
        Map<String, String> names = new LinkedHashMap<>();
        Random random = new Random(7);
        List<Path> dirs = new ArrayList<>();
        dirs.add(root);
        write(root, "privkeys/" + TENANT_A + "/private.pem", "-----BEGIN RSA PRIVATE KEY-----\nA\n", "rw-------", names);
        write(root, "privkeys/" + TENANT_B + "/private.pem", "-----BEGIN RSA PRIVATE KEY-----\nB\n", "rw-------", names);
        write(root, "privkeys/README", "not a key", "rw-r--r--", names);
        write(root, "bin/run.sh", "#!/bin/sh\necho ok\n", "rwxr-xr-x", names);
        write(root, "a/b/notes.txt", "notes", "rw-r-----", names);
        write(root, "upload_files/文档/报告 2024 – final.txt", "non-ASCII name", "rw-r--r--", names);
        write(root, "upload_files/café.txt", "é", "rw-r--r--", names);
        write(root, "upload_files/-leading-dash", "dash", "rw-r--r--", names);
        write(root, "upload_files/with space and 'quote'", "space", "rw-r--r--", names);
        write(root, "upload_files/line\nbreak", "newline in the name", "rw-r--r--", names);
        write(root, "upload_files/empty", "", "rw-r--r--", names);
        String deep = ("d".repeat(48) + "/").repeat(6) + "f".repeat(20) + ".txt";
        assertThat(deep.length()).isGreaterThanOrEqualTo(300);
        write(root, deep, "deep", "rw-r--r--", names);
        Path big = root.resolve("upload_files/big.bin");
        Files.write(big, randomBytes(random, 5 << 20));
        names.put("upload_files/big.bin", "");
        Files.createDirectories(root.resolve("empty/dir"));
        names.put("empty/dir", "");
        Files.createSymbolicLink(root.resolve("a/link-to-notes"), Path.of("b/notes.txt"));
        Files.createSymbolicLink(root.resolve("upload_files/up"), Path.of("../a"));
        names.put("a/link-to-notes", "");
        names.put("upload_files/up", "");
        // mtimes last, deepest first, so that creating children does not move a directory's mtime again
        Instant base = Instant.parse("2024-03-04T05:06:07.891Z");
        List<Path> all;
        try (var walk = Files.walk(root)) {
            all = walk.sorted((x, y) -> y.getNameCount() - x.getNameCount()).toList();
        }
        int i = 0;
        for (Path p : all) {
            if (!Files.isSymbolicLink(p) && !p.equals(root)) {
                Files.setLastModifiedTime(p, FileTime.from(base.plusSeconds(3600L * i++)));
            }
        }
        Files.setPosixFilePermissions(root.resolve("empty"), PosixFilePermissions.fromString("rwx------"));
        return names;
    }

    private static void write(Path root, String rel, String content, String perms, Map<String, String> names) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        names.put(rel, content);
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static Map<String, String> hashes(Map<String, byte[]> objects) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (var o : objects.entrySet()) {
            out.put(o.getKey(), TreeSnapshot.sha256(new java.io.ByteArrayInputStream(o.getValue())));
        }
        return out;
    }
}
