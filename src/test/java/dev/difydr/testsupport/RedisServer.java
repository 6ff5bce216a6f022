package dev.difydr.testsupport;

import dev.difydr.config.RedisConfig;
import dev.difydr.config.Secret;
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
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * A redis-server from the local binary, started daemonized on a random port in a temp directory with no persistence
 * and no diskless-sync delay, stopped by the PID from its pidfile. Options: a password, an ACL user, TLS (certificates
 * made with openssl), SYNC/PSYNC renamed away (as managed Redis refuses them), the number of databases.
 */
public final class RedisServer implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final String password;
    private final String user;
    private final String userPassword;
    private final Path caFile;

    private RedisServer(Path dir, int port, String password, String user, String userPassword, Path caFile) {
        this.dir = dir;
        this.port = port;
        this.password = password;
        this.user = user;
        this.userPassword = userPassword;
        this.caFile = caFile;
    }

    public static Options options() {
        return new Options();
    }

    public static RedisServer start() {
        return options().start();
    }

    /** True when this redis-server was built with TLS and openssl exists to make certificates. */
    public static boolean tlsAvailable() {
        try {
            String ldd = Commands.run(List.of("ldd", "/usr/bin/redis-server"), Map.of(), null);
            return ldd.contains("libssl") && Files.isExecutable(Path.of("/usr/bin/openssl"));
        } catch (RuntimeException e) {
            return false;
        }
    }

    public static final class Options {
        private boolean password = true;
        private String aclUser;
        private boolean tls;
        private boolean refuseReplication;
        private boolean disklessSync = true;
        private int databases = 16;
        private Path rdbFile;

        public Options noPassword() {
            password = false;
            return this;
        }

        public Options aclUser(String name) {
            aclUser = name;
            return this;
        }

        public Options tls() {
            tls = true;
            return this;
        }

        public Options refuseReplication() {
            refuseReplication = true;
            return this;
        }

        public Options diskSync() {
            disklessSync = false;
            return this;
        }

        /** Starts from a copy of this RDB file (the server loads it at start). */
        public Options dbfilename(Path rdb) {
            rdbFile = rdb;
            return this;
        }

        public Options databases(int n) {
            databases = n;
            return this;
        }

        public RedisServer start() {
            try {
                Path dir = Files.createTempDirectory("dify-dr-redis-");
                int port = freePort();
                String pw = password ? "pw-" + UUID.randomUUID() : null;
                String userPw = aclUser == null ? null : "upw-" + UUID.randomUUID();
                List<String> conf = new ArrayList<>(List.of(
                        "bind 127.0.0.1", "save \"\"", "appendonly no", "dir " + dir, "daemonize yes",
                        "pidfile " + dir.resolve("redis.pid"), "logfile " + dir.resolve("redis.log"),
                        "repl-diskless-sync-delay 0", "repl-diskless-sync " + (disklessSync ? "yes" : "no"),
                        "databases " + databases));
                if (rdbFile != null) {
                    Files.copy(rdbFile, dir.resolve("dump.rdb"));
                    conf.add("dbfilename dump.rdb");
                }
                Path ca = null;
                if (tls) {
                    ca = makeCertificates(dir);
                    conf.addAll(List.of("port 0", "tls-port " + port, "tls-cert-file " + dir.resolve("server.crt"),
                            "tls-key-file " + dir.resolve("server.key"), "tls-ca-cert-file " + ca, "tls-auth-clients no",
                            "tls-replication yes"));
                } else {
                    conf.add("port " + port);
                }
                if (pw != null) {
                    conf.add("requirepass " + pw);
                }
                if (aclUser != null) {
                    conf.add("user " + aclUser + " on >" + userPw + " ~* &* +@all");
                }
                if (refuseReplication) {
                    conf.add("rename-command SYNC \"\"");
                    conf.add("rename-command PSYNC \"\"");
                }
                Path confFile = dir.resolve("redis.conf");
                Files.write(confFile, conf);
                Commands.run(List.of("redis-server", confFile.toString()), Map.of(), dir);
                RedisServer server = new RedisServer(dir, port, pw, aclUser, userPw, ca);
                server.awaitReady();
                return server;
            } catch (IOException e) {
                throw new IllegalStateException("cannot start redis-server", e);
            }
        }
    }

    private static Path makeCertificates(Path dir) {
        Path ca = dir.resolve("ca.crt");
        Commands.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", dir.resolve("ca.key").toString(), "-out", ca.toString(), "-subj", "/CN=dify-dr test CA"), Map.of(), dir);
        Commands.run(List.of("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.resolve("server.key").toString(),
                "-out", dir.resolve("server.csr").toString(), "-subj", "/CN=localhost"), Map.of(), dir);
        try {
            Files.writeString(dir.resolve("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Commands.run(List.of("openssl", "x509", "-req", "-in", dir.resolve("server.csr").toString(), "-CA", ca.toString(),
                "-CAkey", dir.resolve("ca.key").toString(), "-CAcreateserial", "-days", "2",
                "-extfile", dir.resolve("san.ext").toString(), "-out", dir.resolve("server.crt").toString()), Map.of(), dir);
        return ca;
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + 10_000_000_000L;
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try (Jedis j = jedis()) {
                j.ping();
                return;
            } catch (RuntimeException e) {
                last = e;
                try {
                    Thread.sleep(30);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(ie);
                }
            }
        }
        throw new IllegalStateException("redis-server on port " + port + " did not answer: " + log(), last);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public String host() {
        return caFile != null ? "localhost" : "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** The default user's password; null without one. */
    public String password() {
        return password;
    }

    public String user() {
        return user;
    }

    public String userPassword() {
        return userPassword;
    }

    public Path caFile() {
        return caFile;
    }

    public Path dir() {
        return dir;
    }

    public String log() {
        try {
            return Files.readString(dir.resolve("redis.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** A client as the default user (or as the ACL user when there is one), TLS when the server uses it. */
    public Jedis jedis() {
        DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder().timeoutMillis(10_000).protocol(redis.clients.jedis.RedisProtocol.RESP2);
        if (user != null) {
            b.user(user).password(userPassword);
        } else if (password != null) {
            b.password(password);
        }
        if (caFile != null) {
            b.ssl(true).sslSocketFactory(new dev.difydr.source.redis.RedisEndpoint(config()).tlsSocketFactory());
        }
        return new Jedis(new HostAndPort(host(), port), b.build());
    }

    /** The configuration dify-dr uses for this server: the ACL user when there is one, else the default user. */
    public RedisConfig config() {
        return config(RedisConfig.AUTO);
    }

    public RedisConfig config(String mode) {
        String pw = user != null ? userPassword : password;
        return new RedisConfig(host(), port, user, pw == null ? null : Secret.of(pw), caFile != null,
                caFile == null ? null : caFile.toString(), mode, false, 10);
    }

    /** The redis section of a configuration file, the password read from {@code passwordFile} (written here). */
    public String yaml(Path passwordFile) throws IOException {
        String pw = user != null ? userPassword : password;
        StringBuilder sb = new StringBuilder("redis:\n  host: " + host() + "\n  port: " + port + "\n");
        if (user != null) {
            sb.append("  user: ").append(user).append('\n');
        }
        if (pw != null) {
            Files.writeString(passwordFile, pw + "\n");
            sb.append("  password: \"${file:").append(passwordFile).append("}\"\n");
        }
        if (caFile != null) {
            sb.append("  tls: true\n  caFile: ").append(caFile).append('\n');
        }
        return sb.toString();
    }

    @Override
    public void close() {
        try {
            long pid = Long.parseLong(Files.readString(dir.resolve("redis.pid")).strip());
            ProcessHandle.of(pid).ifPresent(p -> {
                p.destroyForcibly();
                p.onExit().join();
            });
        } catch (IOException | NumberFormatException ignored) {
            // not started, or already gone
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp dir cleanup is best effort
        }
    }
}
