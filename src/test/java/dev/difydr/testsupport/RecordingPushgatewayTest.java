package dev.difydr.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stand-in refuses what a real Pushgateway refuses, so a push that passes it would pass the real one. */
class RecordingPushgatewayTest {
    private static final Map<String, String> GROUP = Map.of("job", "dify-dr", "deployment", "prod", "command", "backup");

    @Test
    void acceptsTheTextFormatConsistentWithTheGroupingKey() {
        assertThat(RecordingPushgateway.refusal(GROUP, """
                # HELP dify_dr_job_last_exit_code Exit code
                # TYPE dify_dr_job_last_exit_code gauge
                dify_dr_job_last_exit_code{command="backup",deployment="prod",schedule=""} 4.0
                dify_dr_job_runs_total{command="backup",deployment="prod",result="failure",schedule=""} 1.0
                """)).isNull();
    }

    @Test
    void refusesALabelThatContradictsTheGroupingKeyAndWhatIsNotTheTextFormat() {
        assertThat(RecordingPushgateway.refusal(GROUP, "dify_dr_job_last_exit_code{deployment=\"staging\"} 4.0\n"))
                .contains("contradicts the grouping key");
        assertThat(RecordingPushgateway.refusal(GROUP, "dify_dr_job_last_exit_code 4.0 x\n")).contains("not the text format");
        assertThat(RecordingPushgateway.refusal(GROUP, "dify_dr_job_last_exit_code{deployment=prod} 4.0\n")).isNotNull();
        assertThat(RecordingPushgateway.refusal(GROUP, "dify_dr_job_last_exit_code four\n")).contains("not a sample value");
    }
}
