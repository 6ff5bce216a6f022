package dev.difydr.verify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.Failure;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.PostgresServer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code verify} finds a damaged, shortened or missing artifact, names it, and says what is wrong with it. */
class VerifyIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PostgresServer pg;

    @TempDir
    static Path tmp;

    @TempDir
    Path dir;

    private Path config;
    private String difyPath;
    private Path difyFile;
    private long difyBytes;

    @BeforeAll
    static void start() throws IOException {
        pg = PostgresServer.start();
        pg.loadDifyFixtures();
        Files.writeString(tmp.resolve("pg-password"), pg.password() + "\n");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @BeforeEach
    void backup() throws IOException {
        Path repo = dir.resolve("repo");
        config = dir.resolve("dify-dr.yaml");
        Files.writeString(config, """
                repository:
                  url: %s
                """.formatted(repo.toUri()) + pg.postgresYaml(tmp.resolve("pg-password")));
        CliRun run = cli("--json", "backup");
        assertThat(run.code()).as(run.out() + run.err()).isZero();
        JsonNode dify = JSON.readTree(run.out()).get("artifacts").get(0);
        assertThat(dify.get("name").asText()).isEqualTo("dify");
        difyPath = dify.get("path").asText();
        difyFile = repo.resolve(difyPath);
        difyBytes = dify.get("storedBytes").asLong();
        assertThat(Files.size(difyFile)).isEqualTo(difyBytes);

        JsonNode before = verify(true, 0);
        assertThat(before.get("status").asText()).isEqualTo("ok");
    }

    @Test
    void corruptByteIsFoundOnlyByReadingTheData() throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(difyFile.toFile(), "rw")) {
            long middle = f.length() / 2;
            f.seek(middle);
            int b = f.read();
            f.seek(middle);
            f.write(b ^ 0x5a);
        }
        assertThat(Files.size(difyFile)).isEqualTo(difyBytes);

        JsonNode sizes = verify(false, 0);
        assertThat(sizes.get("status").asText()).isEqualTo("ok");

        JsonNode read = verify(true, Failure.VERIFY.exitCode());
        assertThat(read.get("status").asText()).isEqualTo("failed");
        JsonNode bad = check(read, "dify");
        assertThat(bad.get("path").asText()).isEqualTo(difyPath);
        assertThat(bad.get("ok").asBoolean()).isFalse();
        assertThat(bad.get("detail").asText()).contains("sha256").contains("differs");
        assertThat(check(read, "dify_plugin").get("ok").asBoolean()).isTrue();

        CliRun text = cli("verify", "latest", "--read-data");
        assertThat(text.code()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(text.out()).containsPattern("FAILED +" + difyPath.replace(".", "\\.") + ": .*sha256.*differs");
    }

    @Test
    void everyVerifyRecordsItsVerdictBesideTheManifestWithoutBecomingPartOfIt() throws IOException {
        Path backupDir = difyFile.getParent().getParent();
        Path record = backupDir.resolve("verify.json");
        String id = backupDir.getFileName().toString();
        JsonNode passed = JSON.readTree(record.toFile());
        assertThat(passed.get("passed").asBoolean()).isTrue();
        assertThat(passed.get("readData").asBoolean()).isTrue();
        assertThat(passed.get("problems")).isEmpty();
        assertThat(passed.get("verifiedAt").asText()).isNotEmpty();

        Files.delete(difyFile);
        verify(false, Failure.VERIFY.exitCode());
        JsonNode failed = JSON.readTree(record.toFile());
        assertThat(failed.get("passed").asBoolean()).isFalse();
        assertThat(failed.get("readData").asBoolean()).isFalse();
        assertThat(failed.get("problems")).extracting(JsonNode::asText).singleElement().asString().startsWith(difyPath + ": missing");

        // the record is no artifact and no manifest: show, list and verify see the backup as before
        JsonNode shown = JSON.readTree(cli("--json", "show", id).out());
        assertThat(shown.get("artifacts")).hasSize(2).extracting(a -> a.get("path").asText()).noneMatch(p -> p.endsWith("verify.json"));
        JsonNode listed = JSON.readTree(cli("--json", "list").out()).get("backups");
        assertThat(listed).hasSize(1);
        assertThat(listed.get(0).get("status").asText()).isEqualTo("completed");
        assertThat(listed.get(0).get("id").asText()).isEqualTo(id);
    }

    @Test
    void truncatedArtifactIsFoundBySize() throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(difyFile.toFile(), "rw")) {
            f.setLength(difyBytes - 1000);
        }

        JsonNode sizes = verify(false, Failure.VERIFY.exitCode());
        JsonNode bad = check(sizes, "dify");
        assertThat(bad.get("path").asText()).isEqualTo(difyPath);
        assertThat(bad.get("ok").asBoolean()).isFalse();
        assertThat(bad.get("detail").asText()).contains("size differs").contains(String.valueOf(difyBytes - 1000))
                .contains(String.valueOf(difyBytes));
        assertThat(check(sizes, "dify_plugin").get("ok").asBoolean()).isTrue();
    }

    @Test
    void missingArtifactIsNamed() throws IOException {
        Files.delete(difyFile);

        JsonNode sizes = verify(false, Failure.VERIFY.exitCode());
        JsonNode bad = check(sizes, "dify");
        assertThat(bad.get("ok").asBoolean()).isFalse();
        assertThat(bad.get("detail").asText()).contains("missing").contains(difyPath);

        CliRun text = cli("verify", "latest", "--read-data");
        assertThat(text.code()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(text.out()).contains("FAILED  " + difyPath + ": missing");
    }

    @Test
    void unknownBackupIsAVerifyFailure() {
        CliRun run = cli("verify", "20200101T000000Z-aaaaaa");
        assertThat(run.code()).isEqualTo(Failure.VERIFY.exitCode());
        assertThat(run.err()).contains("20200101T000000Z-aaaaaa").contains("no manifest");
    }

    private JsonNode verify(boolean readData, int expectedCode) throws IOException {
        CliRun run = readData ? cli("--json", "verify", "latest", "--read-data") : cli("--json", "verify", "latest");
        assertThat(run.code()).as("verify%s exit code; stdout:%n%s%nstderr:%n%s", readData ? " --read-data" : "", run.out(), run.err())
                .isEqualTo(expectedCode);
        JsonNode result = JSON.readTree(run.out());
        assertThat(result.get("readData").asBoolean()).isEqualTo(readData);
        assertThat(result.get("artifacts")).hasSize(2);
        return result;
    }

    private static JsonNode check(JsonNode result, String name) {
        for (JsonNode c : result.get("artifacts")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no check of artifact " + name + " in " + result);
    }



    private CliRun cli(String... args) {
        return CliRun.withConfig(config, args);
    }
}
