package dev.difydr.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The Role the runbook tells operators to apply is the one the code asks for, rule by rule. */
class PermissionsTest {

    @Test
    void theRunbookRoleIsRenderedFromTheRules() throws IOException {
        String runbook = Files.readString(Path.of("runbooks/incident-restore.md"));

        assertThat(runbook).contains(Permissions.roleYaml("dify"));
    }

    @Test
    void theRefusalHintNamesWhatEveryRestoreNeedsAndNotTheOptionalRules() {
        assertThat(Permissions.restoreSummary()).contains("get/create/delete on leases", "get/patch on secrets")
                .doesNotContain("pods/exec", "horizontalpodautoscalers", "get/create/delete on configmaps", "get/create/delete on secrets");
    }

    @Test
    void difysNamespaceGetsCreateButNoDeleteOfConfigurationWhichOnlyTheDrillsNamespaceGets() {
        String[] roles = Permissions.roleYaml("dify").split("---\n");
        assertThat(roles[0]).contains("namespace: dify}")
                .contains("  - {apiGroups: [\"\"], resources: [\"configmaps\"], verbs: [\"create\"]}\n")
                .contains("  - {apiGroups: [\"\"], resources: [\"secrets\"], verbs: [\"create\"]}\n")
                .doesNotContain("delete\"]}\n  - {apiGroups: [\"\"], resources: [\"secrets");
        assertThat(roles[0].lines().filter(l -> l.contains("\"delete\"")).toList()).singleElement().asString().contains("leases");
        assertThat(roles[1]).contains("namespace: <drill.namespace>}")
                .contains("  - {apiGroups: [\"\"], resources: [\"configmaps\"], verbs: [\"get\", \"create\", \"delete\"]}\n")
                .contains("  - {apiGroups: [\"\"], resources: [\"secrets\"], verbs: [\"get\", \"create\", \"delete\"]}\n");
    }
}
