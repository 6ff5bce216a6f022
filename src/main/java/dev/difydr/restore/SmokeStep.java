package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Config;
import dev.difydr.config.Secret;
import dev.difydr.config.SmokeConfig;
import dev.difydr.kube.DatabaseEnv;
import dev.difydr.smoke.SmokeChecks;
import dev.difydr.smoke.SmokeResult;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.stream.Collectors;

/** Smoke checks of the restored Dify (or, in a rollback, of the old one), with the app key read from its Secret. */
final class SmokeStep {
    private final Config config;
    private final KubernetesClient client;

    SmokeStep(Config config, KubernetesClient client) {
        this.config = config;
        this.client = client;
    }

    /** The checks as the plan shows them; empty when none are configured. */
    List<String> describe() {
        return config.smoke() == null ? List.of() : new SmokeChecks(smokeConfig()).describe();
    }

    /** Runs the checks into {@code into}; throws naming every failed one. */
    String run(List<SmokeResult> into) {
        into.clear();
        if (config.smoke() == null) {
            return "no smoke checks configured";
        }
        into.addAll(new SmokeChecks(smokeConfig()).run());
        List<SmokeResult> failed = into.stream().filter(r -> !r.ok()).toList();
        if (!failed.isEmpty()) {
            throw new DrException(Failure.SMOKE, "smoke checks failed: " + failed.stream().map(r -> r.name() + " (" + r.url() + "): " + r.detail())
                    .collect(Collectors.joining("; ")));
        }
        return into.size() + " checks passed";
    }

    private SmokeConfig smokeConfig() {
        SmokeConfig s = config.smoke();
        if (s.appKeySecret() == null) {
            return s;
        }
        String namespace = config.kubernetes().namespace();
        String key = new DatabaseEnv(client, namespace).secretValue(s.appKeySecret().name(), s.appKeySecret().key())
                .orElseThrow(() -> new DrException(Failure.KUBERNETES, "smoke.appKeySecret: Secret " + s.appKeySecret().name()
                        + " has no key " + s.appKeySecret().key() + " in namespace " + namespace));
        return s.withAppKey(Secret.of(key));
    }
}
