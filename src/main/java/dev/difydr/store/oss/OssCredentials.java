package dev.difydr.store.oss;

import com.aliyun.oss.common.auth.Credentials;
import com.aliyun.oss.common.auth.CredentialsProvider;
import com.aliyun.oss.common.auth.DefaultCredentialProvider;
import com.aliyun.oss.common.auth.InvalidCredentialsException;
import dev.difydr.config.OssConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Where an OSS store's credentials come from, the first that applies:
 * <ol>
 *   <li>{@code accessKeyId} and {@code accessKeySecret} (and {@code securityToken}) of {@code repository.oss};</li>
 *   <li>the environment variables {@code OSS_ACCESS_KEY_ID}, {@code OSS_ACCESS_KEY_SECRET} (and
 *       {@code OSS_SESSION_TOKEN}), the OSS SDK's own, when either of the first two is set;</li>
 *   <li>RRSA, the RAM roles for service accounts of Alibaba Cloud ACK, when {@value #ROLE_ARN}, {@value #PROVIDER_ARN}
 *       or {@value #TOKEN_FILE} is set: the pod's OIDC token is exchanged at STS for temporary keys
 *       ({@link RrsaCredentialsProvider}). All three are needed; with only some set, every request fails naming the
 *       missing ones.</li>
 * </ol>
 * With none of these, every request fails naming the variables to set. Failures surface as the OSS SDK's
 * {@link InvalidCredentialsException}, with a message fit to show: it names files and variables, never a key or token.
 */
final class OssCredentials {
    static final String OSS_ACCESS_KEY_ID = "OSS_ACCESS_KEY_ID";
    static final String OSS_ACCESS_KEY_SECRET = "OSS_ACCESS_KEY_SECRET";
    static final String OSS_SESSION_TOKEN = "OSS_SESSION_TOKEN";
    static final String ROLE_ARN = "ALIBABA_CLOUD_ROLE_ARN";
    static final String PROVIDER_ARN = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
    static final String TOKEN_FILE = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
    /** Optional: the RRSA session's name in STS and ActionTrail; "dify-dr" without it. */
    static final String ROLE_SESSION_NAME = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
    /** Optional, without {@code repository.oss.stsEndpoint}: STS of this region rather than sts.aliyuncs.com. */
    static final String STS_REGION = "ALIBABA_CLOUD_STS_REGION";
    /** Optional, with {@value #STS_REGION}: "true" for the region's VPC endpoint (sts-vpc.REGION.aliyuncs.com). */
    static final String STS_VPC = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";

    private OssCredentials() {
    }

    /** The provider for {@code config}, reading environment variables through {@code env} (null or blank: unset). */
    static CredentialsProvider choose(OssConfig config, Function<String, String> env) {
        if (config.accessKeyId() != null) {
            if (config.securityToken() != null && !config.securityToken().isEmpty()) {
                return new DefaultCredentialProvider(config.accessKeyId().reveal(), config.accessKeySecret().reveal(),
                        config.securityToken().reveal());
            }
            return new DefaultCredentialProvider(config.accessKeyId().reveal(), config.accessKeySecret().reveal());
        }
        if (set(env, OSS_ACCESS_KEY_ID) || set(env, OSS_ACCESS_KEY_SECRET)) {
            if (!set(env, OSS_ACCESS_KEY_ID) || !set(env, OSS_ACCESS_KEY_SECRET)) {
                String missing = set(env, OSS_ACCESS_KEY_ID) ? OSS_ACCESS_KEY_SECRET : OSS_ACCESS_KEY_ID;
                String present = set(env, OSS_ACCESS_KEY_ID) ? OSS_ACCESS_KEY_ID : OSS_ACCESS_KEY_SECRET;
                return new Refusing("no credentials: " + present + " is set but " + missing + " is not; set both "
                        + "(or neither, to use repository.oss.accessKeyId/accessKeySecret or RRSA)");
            }
            // what the SDK's EnvironmentVariableCredentialsProvider does, from env rather than System.getenv
            String id = env.apply(OSS_ACCESS_KEY_ID).strip();
            String secret = env.apply(OSS_ACCESS_KEY_SECRET).strip();
            return set(env, OSS_SESSION_TOKEN)
                    ? new DefaultCredentialProvider(id, secret, env.apply(OSS_SESSION_TOKEN).strip())
                    : new DefaultCredentialProvider(id, secret);
        }
        List<String> rrsa = List.of(ROLE_ARN, PROVIDER_ARN, TOKEN_FILE);
        List<String> missing = new ArrayList<>();
        for (String name : rrsa) {
            if (!set(env, name)) {
                missing.add(name);
            }
        }
        if (missing.size() == rrsa.size()) {
            return new Refusing("no credentials: repository.oss has no accessKeyId/accessKeySecret, and neither the "
                    + "environment variables " + OSS_ACCESS_KEY_ID + " and " + OSS_ACCESS_KEY_SECRET + " nor the RRSA "
                    + "variables " + String.join(", ", rrsa) + " are set; give one of these");
        }
        if (!missing.isEmpty()) {
            List<String> present = new ArrayList<>(rrsa);
            present.removeAll(missing);
            return new Refusing("incomplete RRSA environment: " + String.join(" and ", present)
                    + (present.size() == 1 ? " is" : " are") + " set but " + String.join(" and ", missing)
                    + (missing.size() == 1 ? " is" : " are") + " not; RRSA needs all three (ACK sets them in pods whose "
                    + "service account is enabled for RRSA), or set none of them");
        }
        String sessionName = set(env, ROLE_SESSION_NAME) ? env.apply(ROLE_SESSION_NAME).strip() : "dify-dr";
        return new RrsaCredentialsProvider(env.apply(ROLE_ARN).strip(), env.apply(PROVIDER_ARN).strip(),
                env.apply(TOKEN_FILE).strip(), sessionName, config.stsHost(),
                set(env, STS_REGION) ? env.apply(STS_REGION).strip() : null,
                set(env, STS_VPC) && Boolean.parseBoolean(env.apply(STS_VPC).strip()));
    }

    private static boolean set(Function<String, String> env, String name) {
        String value = env.apply(name);
        return value != null && !value.isBlank();
    }

    /** Fails every request with one message: the store reports it as the reason of each failed operation. */
    private record Refusing(String message) implements CredentialsProvider {
        @Override
        public void setCredentials(Credentials creds) {
            throw new UnsupportedOperationException("these credentials are not set in code");
        }

        @Override
        public Credentials getCredentials() {
            throw new InvalidCredentialsException(message);
        }
    }
}
