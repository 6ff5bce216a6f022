package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.difydr.kube.ConfigSnapshot;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Settings are resolved as the container sees them and compared by name; no value ever reaches the result. */
class ConfigDriftTest {

    @Test
    void resolvesLikeKubernetesAndComparesByNameOnly() {
        ConfigSnapshot backup = snapshot("backed-up-secret-key", "pg.example", "redis-password-one");
        ConfigSnapshot live = snapshot("live-secret-key", "pg.example", "redis-password-one");

        ConfigDrift.Result drift = ConfigDrift.compare(backup, live);

        assertThat(drift.lines()).containsExactly(
                "SECRET_KEY: differs from the backup in dify-api/api",
                "DB_DATABASE: same",
                "DB_HOST: same",
                "REDIS_KEY: differs from the backup in dify-api/api",
                "REDIS_PASSWORD: same");
        assertThat(drift.secretKeyChangedIn()).containsExactly("dify-api/api");
        assertThat(String.join("\n", drift.lines())).doesNotContain("backed-up-secret-key", "live-secret-key", "pg.example", "redis-password");
        // envFrom with a prefix, an env entry winning over it, a missing optional key leaving the envFrom value
        Map<String, String> env = live.environments().get("dify-api/api");
        assertThat(env).containsEntry("SECRET_KEY", "live-secret-key").containsEntry("DB_HOST", "pg.example")
                .containsEntry("DB_DATABASE", "dify").containsEntry("REDIS_PASSWORD", "redis-password-one")
                .doesNotContainKey("POD_NAME");
        assertThat(live.toString()).doesNotContain("live-secret-key", "redis-password-one");
    }

    @Test
    void aVariableOnOneSideOnlyIsNamedAsSuch() {
        ConfigSnapshot backup = snapshot("k", "pg.example", "r");
        ConfigSnapshot live = new ConfigSnapshot(1, "dify", List.of(), List.of(),
                List.of(new ConfigSnapshot.ContainerEnv("dify-api", "api", false, List.of(env("DB_HOST", "pg.example"),
                        env("REDIS_HOST", "redis.example")), List.of())), List.of());

        List<String> lines = ConfigDrift.compare(backup, live).lines();

        assertThat(lines).contains("DB_HOST: same", "REDIS_HOST: set now, not in the backup in dify-api/api",
                "SECRET_KEY: in the backup, not set now in dify-api/api");
    }

    private static ConfigSnapshot snapshot(String secretKey, String dbHost, String redisPassword) {
        var secret = new SecretBuilder().withNewMetadata().withName("dify-credentials").endMetadata()
                .withData(Map.of("KEY", b64(secretKey), "PASSWORD", b64(redisPassword))).build();
        var cm = new ConfigMapBuilder().withNewMetadata().withName("dify-api").endMetadata()
                .withData(Map.of("DB_HOST", "overridden", "DB_DATABASE", "dify")).build();
        List<EnvVar> env = List.of(
                env("DB_HOST", dbHost),
                new EnvVarBuilder().withName("SECRET_KEY").withNewValueFrom().withNewSecretKeyRef("KEY", "dify-credentials", false)
                        .endValueFrom().build(),
                new EnvVarBuilder().withName("REDIS_PASSWORD").withNewValueFrom().withNewSecretKeyRef("ABSENT", "dify-credentials", true)
                        .endValueFrom().build(),
                new EnvVarBuilder().withName("POD_NAME").withNewValueFrom().withNewFieldRef("v1", "metadata.name").endValueFrom().build());
        var envFrom = List.of(
                new EnvFromSourceBuilder().withNewConfigMapRef("dify-api", false).build(),
                new EnvFromSourceBuilder().withPrefix("REDIS_").withNewSecretRef("dify-credentials", false).build());
        return new ConfigSnapshot(1, "dify", List.of(cm), List.of(secret),
                List.of(new ConfigSnapshot.ContainerEnv("dify-api", "api", false, env, envFrom)), List.of());
    }

    private static EnvVar env(String name, String value) {
        return new EnvVarBuilder().withName(name).withValue(value).build();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
