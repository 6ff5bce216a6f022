package dev.difydr.testsupport;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs an S3 server until killed, for benchmarks: {@code S3ProxyMain <directory> <bucket>} keeps objects in the
 * directory (left in place on exit), creates the bucket and prints {@code endpoint=… accessKey=… secretKey=…} on one
 * line to stdout.
 */
public final class S3ProxyMain {
    private S3ProxyMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: S3ProxyMain <directory> <bucket>");
            System.exit(2);
        }
        S3ProxyServer server = S3ProxyServer.start(Path.of(args[0]));
        if (!server.client().listBuckets().buckets().stream().anyMatch(b -> b.name().equals(args[1]))) {
            server.createBucket(args[1]);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "s3proxy-shutdown"));
        System.out.println("endpoint=" + server.endpoint() + " accessKey=" + server.accessKey() + " secretKey=" + server.secretKey());
        System.out.flush();
        stopped.await();
    }
}
