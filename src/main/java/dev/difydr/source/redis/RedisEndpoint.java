package dev.difydr.source.redis;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.RedisConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * One Redis server as configured: Jedis connections for ordinary commands and raw sockets for the replication
 * stream, both with the same TLS (host name verified; the JVM's trust store or {@code caFile}) and credentials.
 * Turns connection and authentication failures into {@link Failure#SOURCE} errors that name the server, never the password.
 */
public final class RedisEndpoint {
    private final RedisConfig config;
    private final SSLSocketFactory tls;

    public RedisEndpoint(RedisConfig config) {
        this.config = config;
        this.tls = config.tls() ? socketFactory(config) : null;
    }

    public RedisConfig config() {
        return config;
    }

    /** The TLS socket factory (verifying against caFile or the JVM's trust store); null without TLS. */
    public SSLSocketFactory tlsSocketFactory() {
        return tls;
    }

    /** host:port as messages name the server. */
    public String where() {
        return config.host() + ":" + config.port();
    }

    private int timeoutMillis() {
        return (int) Math.min(Integer.MAX_VALUE, config.timeoutSeconds() * 1000L);
    }

    /** redis_version from INFO server. */
    public static String serverVersion(Jedis jedis) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^redis_version:(\\S+)", java.util.regex.Pattern.MULTILINE)
                .matcher(jedis.info("server"));
        return m.find() ? m.group(1) : "unknown";
    }

    /** A connected, authenticated client; the caller closes it. */
    public Jedis connect() {
        DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder()
                .timeoutMillis(timeoutMillis())
                .protocol(RedisProtocol.RESP2) // every Redis speaks it; RESP3 needs HELLO (Redis 6+) and gains nothing here
                .clientName("dify-dr");
        if (config.user() != null && !config.user().isBlank()) {
            b.user(config.user());
        }
        if (!config.password().isEmpty()) {
            b.password(config.password().reveal());
        }
        if (tls != null) {
            SSLParameters params = new SSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            b.ssl(true).sslSocketFactory(tls).sslParameters(params);
        }
        Jedis jedis = null;
        try {
            // the constructor already connects and authenticates
            jedis = new Jedis(new HostAndPort(config.host(), config.port()), b.build());
            jedis.ping();
            return jedis;
        } catch (JedisException e) {
            if (jedis != null) {
                jedis.close();
            }
            throw failure("cannot connect", e);
        }
    }

    /** A raw socket, TLS when configured, already authenticated with AUTH. */
    public Socket openSocket() throws IOException {
        Socket socket = tls != null ? tls.createSocket() : new Socket();
        try {
            socket.connect(new InetSocketAddress(config.host(), config.port()), timeoutMillis());
            socket.setSoTimeout(timeoutMillis());
            if (socket instanceof SSLSocket ssl) {
                SSLParameters params = ssl.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(params);
                ssl.startHandshake();
            }
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** The failure to report for a problem talking to this server; the message names it and says what to check. */
    public DrException failure(String doing, Throwable e) {
        String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        String hint;
        if (e instanceof JedisAccessControlException || what.contains("WRONGPASS") || what.contains("NOAUTH")
                || what.contains("invalid password") || what.contains("invalid username-password")) {
            hint = "check redis.user and redis.password";
        } else if (causedBy(e, ConnectException.class)) {
            hint = "is Redis running there, and is redis.host/redis.port right?";
        } else if (causedBy(e, SocketTimeoutException.class)) {
            hint = "no answer within " + config.timeoutSeconds() + " s; check the network or raise redis.timeoutSeconds";
        } else if (causedBy(e, UnknownHostException.class)) {
            hint = "the host name does not resolve; check redis.host";
        } else if (causedBy(e, SSLException.class)) {
            hint = "TLS failed; check redis.tls, redis.caFile and that the certificate names " + config.host();
        } else if (e instanceof JedisDataException) {
            hint = "the server refused a command";
        } else if (e instanceof JedisConnectionException) {
            hint = "check that Redis is reachable" + (config.tls() ? " over TLS" : " (is TLS required? set redis.tls)");
        } else {
            hint = "check that Redis is reachable";
        }
        String message = "Redis at " + where() + ": " + doing + ": " + redact(what) + " (" + hint + ")";
        return new DrException(Failure.SOURCE, message, e);
    }

    /** Jedis keeps the socket's exception as a cause or, when it tried several addresses, as a suppressed one. */
    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
            for (Throwable s : t.getSuppressed()) {
                if (causedBy(s, type)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Server replies never carry the password, but a message built from our own command could: never let it through. */
    private String redact(String message) {
        String pw = config.password().reveal();
        return pw.isEmpty() ? message : message.replace(pw, "******");
    }

    private static SSLSocketFactory socketFactory(RedisConfig config) {
        try {
            if (config.caFile() == null || config.caFile().isBlank()) {
                return (SSLSocketFactory) SSLSocketFactory.getDefault();
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            try (InputStream pem = Files.newInputStream(Path.of(config.caFile()))) {
                Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(pem);
                int i = 0;
                for (Certificate c : certs) {
                    trust.setCertificateEntry("ca-" + i++, c);
                }
                if (i == 0) {
                    throw new DrException(Failure.CONFIG, "redis.caFile " + config.caFile() + " holds no certificate");
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new DrException(Failure.CONFIG, "redis.caFile " + config.caFile() + " cannot be used as a CA certificate: " + e.getMessage(), e);
        }
    }
}
