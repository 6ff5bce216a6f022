package dev.difydr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.Failure;
import dev.difydr.repository.Json;
import dev.difydr.testsupport.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScheduleCommandTest {
    @TempDir
    Path dir;

    @Test
    void listsTheShippedSchedulesWithoutAConfiguration() throws Exception {
        CliRun run = CliRun.of("--config", dir.resolve("none.yaml").toString(), "--json", "schedule", "--list");

        assertThat(run.code()).as(run.err()).isZero();
        JsonNode doc = Json.MAPPER.readTree(run.out());
        assertThat(doc.get("schedules").findValuesAsText("name"))
                .containsExactly("daily-prune", "hourly-redis-backup", "nightly-backup", "quarterly-drill", "weekly-verify");
        for (JsonNode s : doc.get("schedules")) {
            assertThat(s.get("next")).hasSize(5);
            OffsetDateTime first = OffsetDateTime.parse(s.get("next").get(0).asText());
            assertThat(first).isAfter(OffsetDateTime.now());
        }
        JsonNode drill = doc.get("schedules").get(3);
        assertThat(drill.get("cron").asText()).isEqualTo("0 6 1 1,4,7,10 *");
        assertThat(drill.get("next").get(0).asText()).matches("20\\d\\d-(01|04|07|10)-01T06:00Z");

        CliRun text = CliRun.of("schedule", "--list", "--schedules", "schedules");
        assertThat(text.out()).contains("nightly-backup: backup, cron '0 2 * * *' in UTC (nightly-backup.yaml)\n  runs:  dify-dr backup\n  next:  ");
    }

    @Test
    void invalidSchedulesAreAConfigurationError() throws Exception {
        Files.writeString(dir.resolve("x.yaml"), "name: x\ncron: '0 2 * *'\njob: backup\n");

        CliRun run = CliRun.of("schedule", "--list", "--schedules", dir.toString());

        assertThat(run.code()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(run.err()).contains("error: invalid schedules in " + dir + ":\n  - " + dir.resolve("x.yaml") + ": cron: '0 2 * *' has 4 fields");
    }
}
