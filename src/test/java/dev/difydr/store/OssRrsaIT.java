package dev.difydr.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.OssConfig;
import dev.difydr.store.oss.OssObjectStore;
import dev.difydr.testsupport.FakeAliyunSts;
import dev.difydr.testsupport.NamespaceStrippingProxy;
import dev.difydr.testsupport.OssServer;
import dev.difydr.testsupport.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * RRSA credentials for the OSS store, as in an ACK pod: the three ALIBABA_CLOUD_* variables name a role, an OIDC
 * provider and a token file; the token is exchanged at STS (here {@link FakeAliyunSts}) for temporary keys, which sign
 * the requests to OSS (here S3Proxy behind {@link NamespaceStrippingProxy}, which records the security token each
 * request carries). The environment is given to the store, not set in the process.
 */
class OssRrsaIT {
    private static final String BUCKET = "dify-dr-rrsa-it";
    private static final String ROLE_ARN = "acs:ram::1234567890123456:role/dify-dr-backup";
    private static final String PROVIDER_ARN = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0ffee";
    private static OssServer oss;
    private static S3ProxyServer server;
    private static NamespaceStrippingProxy proxy;

    @TempDir
    Path dir;
    private FakeAliyunSts sts;
    private Path tokenFile;
    private String token;
    private String prefix;

    @BeforeAll
    static void startServer() {
        oss = OssServer.start(BUCKET);
        server = oss.s3();
        proxy = oss.proxy();
    }

    @AfterAll
    static void stopServer() {
        if (oss != null) {
            oss.close();
        }
    }

    @BeforeEach
    void startSts() throws IOException {
        sts = FakeAliyunSts.start(dir);
        tokenFile = dir.resolve("rrsa/tokens/token");
        Files.createDirectories(tokenFile.getParent());
        token = writeToken();
        prefix = "t-" + UUID.randomUUID() + "/";
    }

    @AfterEach
    void stopSts() {
        sts.close();
    }

    /** A JWT-shaped token, new each time, as ACK's projected service account token is. */
    private String writeToken() throws IOException {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String claims = "{\"iss\":\"https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0ffee\",\"aud\":[\"sts.aliyuncs.com\"],"
                + "\"sub\":\"system:serviceaccount:dify:dify-dr\",\"jti\":\"" + UUID.randomUUID() + "\"}";
        String jwt = b64.encodeToString("{\"alg\":\"RS256\",\"kid\":\"rrsa-it\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString((UUID.randomUUID() + "-signature-" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));
        Files.writeString(tokenFile, jwt);
        return jwt;
    }

    private Map<String, String> podEnvironment() {
        Map<String, String> env = new HashMap<>();
        env.put("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN);
        env.put("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", PROVIDER_ARN);
        env.put("ALIBABA_CLOUD_OIDC_TOKEN_FILE", tokenFile.toString());
        return env;
    }

    private OssObjectStore store(Map<String, String> env) {
        OssConfig config = new OssConfig(proxy.endpoint().toString(), null, null, null, null, 5, null, 1, sts.hostAndPort());
        return new OssObjectStore(URI.create("oss://" + BUCKET + "/" + prefix), config, env::get);
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    @Test
    void theTokenFromTheFileIsExchangedAtStsAndItsKeysSignTheRequests() throws IOException {
        try (OssObjectStore store = store(podEnvironment())) {
            store.check();
            store.put("rrsa/object", bytes(1000));
            assertThat(store.read("rrsa/object")).isEqualTo(bytes(1000));

            assertThat(sts.exchanges()).as("the keys are valid for an hour: one exchange serves every request").hasSize(1);
            FakeAliyunSts.Exchange exchange = sts.exchanges().get(0);
            assertThat(exchange.query()).containsEntry("Action", "AssumeRoleWithOIDC").containsEntry("Version", "2015-04-01");
            assertThat(exchange.form())
                    .containsEntry("OIDCToken", token)
                    .containsEntry("RoleArn", ROLE_ARN)
                    .containsEntry("OIDCProviderArn", PROVIDER_ARN)
                    .containsEntry("RoleSessionName", "dify-dr");
            String issuedToken = sts.issued().get(0).securityToken();
            assertThat(proxy.securityTokensSeen()).contains(issuedToken);
            assertThat(store.describe()).doesNotContain(issuedToken).doesNotContain(token);
        }
        assertThat(server.client().getObjectAsBytes(b -> b.bucket(BUCKET).key(prefix + "rrsa/object")).asByteArray())
                .isEqualTo(bytes(1000));
    }

    @Test
    void keysNearTheirExpiryAreRenewedWithTheTokenNowInTheFile() throws IOException {
        // STS keys within 15 minutes of expiry are renewed before use
        sts.keysValidFor(Duration.ofMinutes(10));
        Map<String, String> env = podEnvironment();
        env.put("ALIBABA_CLOUD_ROLE_SESSION_NAME", "nightly-backup");
        try (OssObjectStore store = store(env)) {
            store.put("first", bytes(10));
            String rotated = writeToken();
            store.put("second", bytes(20));

            assertThat(sts.exchanges()).hasSizeGreaterThanOrEqualTo(2);
            assertThat(sts.exchanges().get(0).form()).containsEntry("OIDCToken", token).containsEntry("RoleSessionName", "nightly-backup");
            assertThat(sts.exchanges().get(sts.exchanges().size() - 1).form()).containsEntry("OIDCToken", rotated);
            String latest = sts.issued().get(sts.issued().size() - 1).securityToken();
            assertThat(proxy.securityTokensSeen()).contains(sts.issued().get(0).securityToken(), latest);
            assertThat(store.read("second")).isEqualTo(bytes(20));
        }
    }

    @Test
    void aRefusedTokenFailsWithStsCodeAndNeverShowsTheToken() {
        String[] parts = token.split("\\.");
        // STS's answer to an expired token (HTTP 401), here also quoting the token, which must not come through
        sts.refuse(401, "AuthenticationFail.OIDCToken.Expired", "This JsonWebToken is expired: " + token + " (claims " + parts[1] + ")");
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);
        List<String> messages = new ArrayList<>();
        try (OssObjectStore store = store(podEnvironment())) {
            assertThatThrownBy(store::check)
                    .isInstanceOfSatisfying(DrException.class, e -> {
                        assertThat(e.failure()).isEqualTo(Failure.STORE);
                        messages.add(DrException.describe(e));
                        assertThat(e.getMessage())
                                .contains("oss://" + BUCKET + "/" + prefix)
                                .contains("STS at https://" + sts.hostAndPort() + " refused the OIDC token from " + tokenFile)
                                .contains("ALIBABA_CLOUD_OIDC_TOKEN_FILE")
                                .contains(ROLE_ARN)
                                .contains("HTTP 401 AuthenticationFail.OIDCToken.Expired")
                                .contains("This JsonWebToken is expired")
                                .contains("request id ");
                    });
            assertThatThrownBy(() -> store.put("refused", bytes(10)))
                    .isInstanceOfSatisfying(DrException.class, e -> {
                        messages.add(DrException.describe(e));
                        assertThat(e.getMessage()).contains("refused").contains("AuthenticationFail.OIDCToken.Expired");
                    });
            assertThatThrownBy(() -> store.read("refused"))
                    .isInstanceOfSatisfying(DrException.class, e -> messages.add(DrException.describe(e)));
        } finally {
            root.detachAppender(logs);
        }
        assertThat(sts.exchanges()).isNotEmpty().allSatisfy(x -> assertThat(x.form()).containsEntry("OIDCToken", token));
        assertThat(messages).hasSize(3).allSatisfy(m -> assertThat(m)
                .doesNotContain(token).doesNotContain(parts[0]).doesNotContain(parts[1]).doesNotContain(parts[2]));
        List<String> logged = new ArrayList<>();
        for (ILoggingEvent event : logs.list) {
            logged.add(event.getFormattedMessage());
            for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                logged.add(t.getMessage());
            }
        }
        assertThat(logged).noneMatch(m -> m != null && (m.contains(parts[1]) || m.contains(parts[2])));
    }

    @Test
    void aMissingTokenFileIsNamedWithItsVariable() throws IOException {
        Files.delete(tokenFile);
        try (OssObjectStore store = store(podEnvironment())) {
            assertThatThrownBy(store::check)
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(e.getMessage())
                            .contains("the OIDC token file " + tokenFile + " named by ALIBABA_CLOUD_OIDC_TOKEN_FILE does not exist"));
        }
        assertThat(sts.exchanges()).isEmpty();
    }

    @Test
    void anUnreadableTokenFileIsNamedWithItsVariable() throws IOException {
        // the tests run as root, who reads any file: a directory stands for a file this process cannot read
        Files.delete(tokenFile);
        Files.createDirectory(tokenFile);
        try (OssObjectStore store = store(podEnvironment())) {
            assertThatThrownBy(() -> store.put("x", bytes(1)))
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(e.getMessage())
                            .contains("the OIDC token file " + tokenFile + " named by ALIBABA_CLOUD_OIDC_TOKEN_FILE cannot be read"));
        }
        assertThat(sts.exchanges()).isEmpty();
    }

    @Test
    void anIncompleteRrsaEnvironmentNamesWhatIsMissing() {
        Map<String, String> env = podEnvironment();
        env.remove("ALIBABA_CLOUD_OIDC_PROVIDER_ARN");
        try (OssObjectStore store = store(env)) {
            assertThatThrownBy(store::check)
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(e.getMessage())
                            .contains("incomplete RRSA environment: ALIBABA_CLOUD_ROLE_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE are set "
                                    + "but ALIBABA_CLOUD_OIDC_PROVIDER_ARN is not"));
        }
        assertThat(sts.exchanges()).isEmpty();
    }

    @Test
    void ossKeysInTheEnvironmentComeBeforeRrsa() throws IOException {
        Map<String, String> env = podEnvironment();
        String sessionToken = "oss-env-token-" + UUID.randomUUID();
        env.put("OSS_ACCESS_KEY_ID", "LTAI-env-id");
        env.put("OSS_ACCESS_KEY_SECRET", "env-secret-" + UUID.randomUUID());
        env.put("OSS_SESSION_TOKEN", sessionToken);
        try (OssObjectStore store = store(env)) {
            store.put("from-env", bytes(5));
            assertThat(store.read("from-env")).isEqualTo(bytes(5));
        }
        assertThat(proxy.securityTokensSeen()).contains(sessionToken);
        assertThat(sts.exchanges()).isEmpty();
    }

    @Test
    void anUnreachableStsIsNamed() {
        sts.close();
        try (OssObjectStore store = store(podEnvironment())) {
            assertThatThrownBy(store::check)
                    .isInstanceOfSatisfying(DrException.class, e -> assertThat(DrException.describe(e))
                            .contains("cannot reach STS at https://" + sts.hostAndPort() + " for RRSA credentials")
                            .doesNotContain(token));
        }
    }
}
