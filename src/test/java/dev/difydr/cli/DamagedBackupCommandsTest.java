package dev.difydr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.Failure;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import dev.difydr.testsupport.HandMadeBackups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code list}, {@code show} and {@code verify} with a damaged manifest and one that claims to be from 2099. */
class DamagedBackupCommandsTest {
    static final String OLD = "20261120T060000Z-aaaaaa";
    static final String LYING = "20261121T060000Z-bbbbbb";
    static final String GOOD = "20261122T060000Z-cccccc";
    static final String GARBAGE = "20261123T060000Z-dddddd";

    @TempDir
    Path dir;

    Path config;

    @BeforeEach
    void repository() throws IOException {
        Path root = dir.resolve("repo");
        Repository repository = new Repository(new FileObjectStore(root), "dify");
        HandMadeBackups.write(repository, OLD);
        HandMadeBackups.write(repository, LYING, Instant.parse("2099-01-01T00:00:00Z"), Manifest.COMPLETED);
        HandMadeBackups.write(repository, GOOD);
        HandMadeBackups.write(repository, GARBAGE);
        Files.writeString(root.resolve("dify/backups/" + GARBAGE + "/manifest.json"), "{\"id\": \"" + GARBAGE + "\", garbage");
        config = dir.resolve("dify-dr.yaml");
        Files.writeString(config, "repository:\n  url: " + root.toUri() + "\n");
    }

    @Test
    void listShowsTheDamagedBackupWithItsReasonAndTheOthersInIdOrder() {
        CliRun text = cli("list");

        assertThat(text.code()).as(text.everything()).isZero();
        assertThat(text.out()).containsSubsequence(GARBAGE, GOOD, LYING, OLD)
                .containsPattern("(?m)^" + GARBAGE + " +damaged +")
                .containsPattern("(?m)^  damaged: its manifest is not a valid manifest: .+$")
                .containsPattern("(?m)^" + LYING + " +completed ")
                .contains("  note: the manifest says it started at 2099-01-01T00:00:00Z");

        CliRun json = cli("--json", "list");
        assertThat(json.code()).isZero();
        JsonNode rows = DifyTestbed.json(json.out()).get("backups");
        assertThat(rows).hasSize(4);
        assertThat(rows.get(0).get("id").asText()).isEqualTo(GARBAGE);
        assertThat(rows.get(0).get("status").asText()).isEqualTo("damaged");
        assertThat(rows.get(0).get("reason").asText()).startsWith("its manifest is not a valid manifest: ");
        assertThat(rows.get(0).get("startedAt").asText()).isEqualTo(new BackupId(GARBAGE).time().toString());
        assertThat(rows.get(0).has("finishedAt")).isTrue();
        assertThat(rows.get(1).get("id").asText()).isEqualTo(GOOD);
        assertThat(rows.get(1).has("reason")).isFalse();
        assertThat(rows.get(1).has("note")).isFalse();
        assertThat(rows.get(2).get("id").asText()).isEqualTo(LYING);
        assertThat(rows.get(2).get("note").asText()).contains("2099");
    }

    @Test
    void latestIsTheNewestUsableBackupAndTheSkipIsLogged() {
        CliRun show = cli("--json", "show", "latest");

        assertThat(show.code()).as(show.everything()).isZero();
        assertThat(DifyTestbed.json(show.out()).get("id").asText()).isEqualTo(GOOD);
        assertThat(show.logs()).contains("WARN").contains("'latest' is " + GOOD + ", not the newer backup " + GARBAGE + ": damaged: ");

        CliRun verify = cli("--json", "verify", "latest");
        assertThat(verify.code()).as(verify.everything()).isZero();
        assertThat(DifyTestbed.json(verify.out()).get("id").asText()).isEqualTo(GOOD);
    }

    @Test
    void showAndVerifyOfTheDamagedIdFailAsVerification() {
        for (String[] args : new String[][] {{"show", GARBAGE}, {"verify", GARBAGE}, {"--json", "show", GARBAGE}}) {
            CliRun run = cli(args);

            assertThat(run.code()).as(String.join(" ", args)).isEqualTo(Failure.VERIFY.exitCode());
            assertThat(run.err()).contains("error: backup " + GARBAGE + " in file://").contains("is damaged: its manifest is not a valid manifest")
                    .contains("'list' shows the other backups");
        }
        CliRun json = cli("--json", "show", GARBAGE);
        assertThat(DifyTestbed.json(json.out()).get("error").get("class").asText()).isEqualTo("verify");
    }

    private CliRun cli(String... args) {
        return CliRun.withConfig(config, args);
    }
}
