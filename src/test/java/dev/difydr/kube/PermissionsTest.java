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
    void theRoleGrantsReCreatingConfigurationAndARestoreAsksOnlyForWhatItUses() {
        assertThat(Permissions.roleYaml("dify"))
                .contains("  - {apiGroups: [\"\"], resources: [\"configmaps\"], verbs: [\"get\", \"create\", \"delete\"]}\n")
                .contains("  - {apiGroups: [\"\"], resources: [\"secrets\"], verbs: [\"get\", \"create\", \"delete\"]}\n");
        assertThat(Permissions.SECRETS_WRITE.only("get", "create").verbs()).containsExactly("get", "create");
    }
}
