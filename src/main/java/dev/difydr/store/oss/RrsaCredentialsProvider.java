package dev.difydr.store.oss;

import com.aliyun.credentials.models.CredentialModel;
import com.aliyun.credentials.provider.OIDCRoleArnCredentialProvider;
import com.aliyun.oss.common.auth.Credentials;
import com.aliyun.oss.common.auth.CredentialsProvider;
import com.aliyun.oss.common.auth.DefaultCredentials;
import com.aliyun.oss.common.auth.InvalidCredentialsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OSS credentials from RRSA: the OIDC token that ACK mounts in the pod is exchanged at STS (AssumeRoleWithOIDC) for
 * temporary keys of the RAM role. The exchange, the caching and the refresh are credentials-java's
 * {@link OIDCRoleArnCredentialProvider}: it reads the token file anew at each exchange (the platform rotates it) and
 * asks STS again once the keys are within 15 minutes of their expiry, so a long backup never signs with expired keys.
 *
 * <p>This class adapts it to the OSS SDK and rewrites its failures: the library's messages carry STS's whole answer.
 * Ours name the token file and its variable, the STS endpoint, STS's error code and request id, and never the token.
 */
final class RrsaCredentialsProvider implements CredentialsProvider, AutoCloseable {
    /** How the library reports an answer other than 200: the status and the whole body. */
    private static final Pattern STS_REFUSAL = Pattern.compile("HttpCode: (\\d+), result: (.*)\\.$", Pattern.DOTALL);
    private static final String CONNECT_FAILURE = "Failed to connect OIDC Service: ";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final OIDCRoleArnCredentialProvider sts;
    private final String roleArn;
    private final Path tokenFile;
    private final String endpoint;

    /**
     * @param stsHost STS as {@code host[:port]}, or null for the one of {@code stsRegion} (its VPC endpoint when
     *     {@code vpc}), or sts.aliyuncs.com without a region
     */
    RrsaCredentialsProvider(String roleArn, String oidcProviderArn, String tokenFile, String sessionName, String stsHost,
            String stsRegion, boolean vpc) {
        this.roleArn = roleArn;
        this.tokenFile = Path.of(tokenFile);
        OIDCRoleArnCredentialProvider.Builder builder = OIDCRoleArnCredentialProvider.builder()
                .roleArn(roleArn)
                .oidcProviderArn(oidcProviderArn)
                .oidcTokenFilePath(tokenFile)
                .roleSessionName(sessionName)
                .enableVpc(vpc);
        if (stsHost != null) {
            builder.STSEndpoint(stsHost);
        } else if (stsRegion != null) {
            builder.stsRegionId(stsRegion);
        }
        this.sts = builder.build();
        this.endpoint = "https://" + sts.getSTSEndpoint();
    }

    /** The STS this provider asks, as a URL. */
    String stsEndpoint() {
        return endpoint;
    }

    @Override
    public Credentials getCredentials() {
        CredentialModel keys;
        try {
            keys = sts.getCredentials();
        } catch (RuntimeException e) {
            throw new InvalidCredentialsException(explain(e));
        }
        return new DefaultCredentials(keys.getAccessKeyId(), keys.getAccessKeySecret(), keys.getSecurityToken());
    }

    @Override
    public void setCredentials(Credentials creds) {
        throw new UnsupportedOperationException("RRSA credentials come from STS, they are not set in code");
    }

    @Override
    public void close() {
        sts.close();
    }

    /** What went wrong, from what the library threw and the state of the token file; never the token itself. */
    private String explain(RuntimeException e) {
        String token = OssCredentials.TOKEN_FILE;
        if (!Files.exists(tokenFile)) {
            return "cannot get RRSA credentials: the OIDC token file " + tokenFile + " named by " + token
                    + " does not exist (is RRSA enabled for the pod's service account, and its token volume mounted?)";
        }
        if (!Files.isRegularFile(tokenFile) || !Files.isReadable(tokenFile)) {
            return "cannot get RRSA credentials: the OIDC token file " + tokenFile + " named by " + token
                    + " cannot be read by this process (check the file's permissions against the pod's user and fsGroup)";
        }
        String message = String.valueOf(e.getMessage());
        Matcher refusal = STS_REFUSAL.matcher(message);
        if (refusal.find() && refusal.group(1).equals("0")) {
            // the library's way of saying there was no HTTP answer at all; it keeps no more than that
            return "cannot reach STS at " + endpoint + " for RRSA credentials: no answer (the connection was refused or "
                    + "timed out, or TLS failed; check the STS endpoint and the pod's network access to it)";
        }
        if (refusal.find(0)) {
            return "STS at " + endpoint + " refused the OIDC token from " + tokenFile + " (" + token + ") for role "
                    + roleArn + ": " + stsError(refusal.group(1), refusal.group(2));
        }
        if (message.startsWith("Error retrieving credentials from OIDC result")) {
            // the answer's body may hold part of the keys: not shown
            return "STS at " + endpoint + " answered AssumeRoleWithOIDC for role " + roleArn + " without complete credentials";
        }
        if (message.startsWith(CONNECT_FAILURE)) {
            return "cannot reach STS at " + endpoint + " for RRSA credentials: " + redact(message.substring(CONNECT_FAILURE.length()));
        }
        String detail = e.getCause() != null && e.getCause().getMessage() != null ? message + ": " + e.getCause().getMessage() : message;
        return "cannot get RRSA credentials for role " + roleArn + " from STS at " + endpoint + ": " + redact(detail);
    }

    /** STS's error code, message and request id from its JSON answer. */
    private String stsError(String status, String body) {
        JsonNode answer;
        try {
            answer = JSON.readTree(body);
        } catch (IOException e) {
            answer = null;
        }
        if (answer == null || !answer.hasNonNull("Code")) {
            return "HTTP " + status + " without an error code";
        }
        StringBuilder s = new StringBuilder("HTTP ").append(status).append(' ').append(answer.get("Code").asText());
        if (answer.hasNonNull("Message")) {
            s.append(": ").append(redact(answer.get("Message").asText()));
        }
        if (answer.hasNonNull("RequestId")) {
            s.append(" (request id ").append(answer.get("RequestId").asText()).append(')');
        }
        return s.toString();
    }

    /**
     * {@code text} without the token now in the file nor any of its longer dot-separated parts (a JWT's header, claims
     * and signature), should STS or the network stack quote them.
     */
    private String redact(String text) {
        String current;
        try {
            current = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
            return text;
        }
        if (current.isEmpty()) {
            return text;
        }
        String result = text.replace(current, "[OIDC token]");
        for (String part : current.split("\\.")) {
            if (part.length() >= 8) {
                result = result.replace(part, "[part of the OIDC token]");
            }
        }
        return result;
    }
}
