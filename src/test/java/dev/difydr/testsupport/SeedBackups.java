package dev.difydr.testsupport;

import dev.difydr.config.S3Config;
import dev.difydr.config.Secret;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.repository.VerifyRecord;
import dev.difydr.store.s3.S3ObjectStore;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Fills an S3 repository with hand-made backups for benchmarks: {@code SeedBackups <endpoint> <s3-url> <deployment>
 * <count> <hours-apart>} writes {@code count} completed backups, the newest an hour ago, each with four small
 * artifacts (two dumps, a Redis snapshot, a storage tar), its manifest and a passed verify record, using the keys
 * and secret of {@link S3ProxyServer}.
 */
public final class SeedBackups {
    private SeedBackups() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: SeedBackups <endpoint> <s3-url> <deployment> <count> <hours-apart>");
            System.exit(2);
        }
        S3Config s3 = new S3Config(args[0], S3ProxyServer.REGION, true, Secret.of(S3ProxyServer.ACCESS_KEY),
                Secret.of(S3ProxyServer.SECRET_KEY), null, "when_required", 5, null, null);
        int count = Integer.parseInt(args[3]);
        Duration apart = Duration.ofHours(Long.parseLong(args[4]));
        Instant newest = Instant.now().minus(Duration.ofHours(1));
        try (Repository repository = new Repository(new S3ObjectStore(URI.create(args[1]), s3), args[2])) {
            ForkJoinPool pool = new ForkJoinPool(8);
            pool.submit(() -> IntStream.range(0, count).parallel().forEach(i -> write(repository, newest.minus(apart.multipliedBy(i))))).get();
            pool.shutdown();
        }
        System.out.println("seeded " + count + " backups");
    }

    private static void write(Repository repository, Instant started) {
        BackupId id = BackupId.at(started);
        var layout = repository.layout();
        byte[] data = ("bytes of " + id).getBytes(StandardCharsets.UTF_8);
        List<Artifact> artifacts = new ArrayList<>();
        for (String[] a : new String[][] {{"dify", "postgres", layout.postgresDump(id, "dify")},
                {"dify_plugin", "postgres", layout.postgresDump(id, "dify_plugin")},
                {"redis", "redis", layout.redisSnapshot(id, "rdb")}, {"app", "storage", layout.storageTar(id, "app")}}) {
            repository.store().put(a[2], data);
            artifacts.add(new Artifact(a[0], a[1], a[2], data.length, data.length, "x", "y", "zstd", "none", null));
        }
        repository.commit(new Manifest(Manifest.FORMAT_VERSION, id.value(), layout.deployment(), "bench", Manifest.COMPLETED,
                started.plusMillis(100), started.plusSeconds(60), artifacts, null, null, null, null, null));
        repository.recordVerification(id, new VerifyRecord(started.plusSeconds(120), false, true, List.of()));
    }
}
