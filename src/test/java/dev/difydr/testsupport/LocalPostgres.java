package dev.difydr.testsupport;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * PostgreSQL from the local binaries: initdb in a temp directory (as user {@code postgres} when running as root,
 * since initdb refuses root), password authentication over TCP on a random port, stopped and deleted on close.
 */
public final class LocalPostgres implements PostgresServer {
    private static final Path BIN = findBin();
    private final Path dir;
    private final int port;
    private final String password;

    private LocalPostgres(Path dir, int port, String password) {
        this.dir = dir;
        this.port = port;
        this.password = password;
    }

    public static String tool(String name) {
        Path p = BIN.resolve(name);
        return Files.isExecutable(p) ? p.toString() : name;
    }

    private static Path findBin() {
        Path base = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(base)) {
            try (Stream<Path> s = Files.list(base)) {
                return s.filter(p -> p.getFileName().toString().matches("\\d+"))
                        .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString())))
                        .map(p -> p.resolve("bin")).orElse(Path.of("/usr/bin"));
            } catch (IOException e) {
                return Path.of("/usr/bin");
            }
        }
        return Path.of("/usr/bin");
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static List<String> asServerUser(List<String> cmd) {
        if (!isRoot()) {
            return cmd;
        }
        List<String> out = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        out.addAll(cmd);
        return out;
    }

    static LocalPostgres start() {
        try {
            Path dir = Files.createTempDirectory("dify-dr-pg-");
            String password = "pw-" + UUID.randomUUID();
            Path pwfile = dir.resolve("pwfile");
            Files.writeString(pwfile, password + "\n");
            if (isRoot()) {
                Commands.run(List.of("chown", "-R", "postgres:postgres", dir.toString()), Map.of(), null);
                Commands.run(List.of("chmod", "700", dir.toString()), Map.of(), null);
            }
            Path data = dir.resolve("data");
            Commands.run(asServerUser(List.of(tool("initdb"), "-D", data.toString(), "-U", "postgres", "--pwfile=" + pwfile,
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")), Map.of(), null);
            int port = freePort();
            String opts = "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
                    + " -c synchronous_commit=off -c full_page_writes=off -c wal_level=replica -c max_wal_senders=4";
            Commands.run(asServerUser(List.of(tool("pg_ctl"), "-D", data.toString(), "-l", dir.resolve("server.log").toString(),
                    "-o", opts, "-w", "start")), Map.of(), null);
            return new LocalPostgres(dir, port, password);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a local PostgreSQL", e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String user() {
        return "postgres";
    }

    @Override
    public String password() {
        return password;
    }

    @Override
    public void close() {
        try {
            Commands.run(asServerUser(List.of(tool("pg_ctl"), "-D", dir.resolve("data").toString(), "-m", "immediate", "-w", "stop")), Map.of(), null);
        } catch (RuntimeException ignored) {
            // already stopped
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp dir cleanup is best effort
        }
    }
}
