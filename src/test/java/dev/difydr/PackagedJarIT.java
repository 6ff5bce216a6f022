package dev.difydr;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** What the shipped jar must hold beyond what the tests' classpath has (test dependencies bring these in there). */
class PackagedJarIT {

    @Test
    void theJarCarriesTheClientsThatCredentialChainsLoadByReflection() throws Exception {
        Path jar = Path.of(System.getProperty("dify-dr.jar", "target/dify-dr.jar"));
        assertThat(jar).exists();
        try (JarFile j = new JarFile(jar.toFile())) {
            // EKS IRSA: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN are read through STS, found by class name at run time.
            assertThat(j.getEntry("software/amazon/awssdk/services/sts/internal/StsWebIdentityCredentialsProviderFactory.class"))
                    .as("the STS web identity provider in " + jar).isNotNull();
            // ACK RRSA: the OIDC role-ARN provider, and the HTTPS client's hostname check it loads only when it calls STS.
            assertThat(j.getEntry("com/aliyun/credentials/provider/OIDCRoleArnCredentialProvider.class"))
                    .as("the Aliyun OIDC credentials provider in " + jar).isNotNull();
            assertThat(j.getEntry("okhttp3/internal/tls/OkHostnameVerifier.class"))
                    .as("the hostname verifier of the STS client in " + jar).isNotNull();
            assertThat(j.getEntry("com/google/crypto/tink/streamingaead/AesGcmHkdfStreamingKey.class")).isNotNull();
        }
        assertThat(Files.size(jar)).isPositive();
    }
}
