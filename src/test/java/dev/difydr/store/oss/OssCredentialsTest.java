package dev.difydr.store.oss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aliyun.oss.common.auth.Credentials;
import com.aliyun.oss.common.auth.InvalidCredentialsException;
import dev.difydr.config.OssConfig;
import dev.difydr.config.Secret;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which credentials an OSS store takes from its configuration and environment; RRSA's exchange is in OssRrsaIT. */
class OssCredentialsTest {
    private static final OssConfig NO_KEYS = new OssConfig("https://oss-cn-hangzhou.aliyuncs.com", null, null, null, null,
            null, null, null, null);

    @Test
    void configuredKeysComeFirst() {
        OssConfig keys = new OssConfig("https://oss-cn-hangzhou.aliyuncs.com", null, Secret.of("LTAI-config"),
                Secret.of("config-secret"), null, null, null, null, null);
        Credentials c = OssCredentials.choose(keys, Map.of("OSS_ACCESS_KEY_ID", "LTAI-env", "OSS_ACCESS_KEY_SECRET", "env-secret",
                "ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r")::get).getCredentials();
        assertThat(c.getAccessKeyId()).isEqualTo("LTAI-config");
        assertThat(c.useSecurityToken()).isFalse();
    }

    @Test
    void ossVariablesAreReadFromTheGivenEnvironment() {
        Credentials c = OssCredentials.choose(NO_KEYS, Map.of("OSS_ACCESS_KEY_ID", " LTAI-env ", "OSS_ACCESS_KEY_SECRET", "env-secret",
                "OSS_SESSION_TOKEN", "env-token")::get).getCredentials();
        assertThat(c.getAccessKeyId()).isEqualTo("LTAI-env");
        assertThat(c.getSecretAccessKey()).isEqualTo("env-secret");
        assertThat(c.getSecurityToken()).isEqualTo("env-token");
    }

    @Test
    void halfTheOssVariablesIsNamed() {
        assertThatThrownBy(() -> OssCredentials.choose(NO_KEYS, Map.of("OSS_ACCESS_KEY_ID", "LTAI-env")::get).getCredentials())
                .isInstanceOf(InvalidCredentialsException.class)
                .hasMessage("no credentials: OSS_ACCESS_KEY_ID is set but OSS_ACCESS_KEY_SECRET is not; set both "
                        + "(or neither, to use repository.oss.accessKeyId/accessKeySecret or RRSA)");
    }

    @Test
    void withNothingSetEveryWayIsNamed() {
        assertThatThrownBy(() -> OssCredentials.choose(NO_KEYS, Map.<String, String>of()::get).getCredentials())
                .isInstanceOf(InvalidCredentialsException.class)
                .hasMessageContaining("OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET")
                .hasMessageContaining("ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE");
    }

    @Test
    void oneRrsaVariableAloneNamesTheOtherTwo() {
        assertThatThrownBy(() -> OssCredentials.choose(NO_KEYS, Map.of("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/var/run/token")::get).getCredentials())
                .isInstanceOf(InvalidCredentialsException.class)
                .hasMessageStartingWith("incomplete RRSA environment: ALIBABA_CLOUD_OIDC_TOKEN_FILE is set but "
                        + "ALIBABA_CLOUD_ROLE_ARN and ALIBABA_CLOUD_OIDC_PROVIDER_ARN are not");
    }

    @Test
    void rrsaAsksTheRegionalStsWhenToldTo() {
        Map<String, String> env = Map.of("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::1:oidc-provider/p",
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/nonexistent/token", "ALIBABA_CLOUD_STS_REGION", "cn-shanghai",
                "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "true");
        try (RrsaCredentialsProvider p = (RrsaCredentialsProvider) OssCredentials.choose(NO_KEYS, env::get)) {
            // the token file is missing: the failure names it before any call to STS
            assertThatThrownBy(p::getCredentials).isInstanceOf(InvalidCredentialsException.class)
                    .hasMessageContaining("/nonexistent/token named by ALIBABA_CLOUD_OIDC_TOKEN_FILE does not exist");
            assertThat(p.stsEndpoint()).isEqualTo("https://sts-vpc.cn-shanghai.aliyuncs.com");
        }
        OssConfig withEndpoint = new OssConfig("https://oss-cn-hangzhou.aliyuncs.com", null, null, null, null, null, null, null,
                "https://sts.example.internal:8443/");
        try (RrsaCredentialsProvider p = (RrsaCredentialsProvider) OssCredentials.choose(withEndpoint, env::get)) {
            assertThat(p.stsEndpoint()).isEqualTo("https://sts.example.internal:8443");
        }
    }
}
