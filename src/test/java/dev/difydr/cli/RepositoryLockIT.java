package dev.difydr.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.Failure;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.PostgresServer;
import dev.difydr.testsupport.SlowPgDump;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Repository locks between real {@code dify-dr} processes: backups whose {@code pg_dump} is slowed down so that they
 * overlap, started at once, killed, and waited for.
 */
class RepositoryLockIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static PostgresServer pg;

    @TempDir
    static Path tmp;

    @TempDir
    Path dir;
    Path config;
    Path repo;

    @BeforeAll
    static void start() throws IOException {
        pg = PostgresServer.start();
        pg.createDatabase("dify");
        pg.psql("dify", "-c", "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1000) g");
        Files.writeString(tmp.resolve("pg-password"), pg.password() + "\n");
        // pg_dump that takes 4 s before it dumps, so that two backups overlap
        SlowPgDump.install(tmp.resolve("slow-bin"), 4);
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @BeforeEach
    void configure() throws IOException {
        repo = dir.resolve("repo");
        config = dir.resolve("dify-dr.yaml");
        Files.writeString(config, """
                repository:
                  url: %s
                postgres:
                  host: %s
                  port: %d
                  user: %s
                  password: "${file:%s}"
                  databases: [dify]
                  binDir: %s
                """.formatted(repo.toUri(), pg.host(), pg.port(), pg.user(), tmp.resolve("pg-password"), tmp.resolve("slow-bin")));
    }

    private Process backup(String name, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.difydr.Main", "--config", config.toString(), "--json", "backup"));
        cmd.addAll(List.of(extra));
        return new ProcessBuilder(cmd).redirectOutput(dir.resolve(name + ".out").toFile()).redirectError(dir.resolve(name + ".err").toFile()).start();
    }

    private String err(String name) throws IOException {
        return Files.readString(dir.resolve(name + ".err"));
    }

    private List<JsonNode> backups() throws IOException {
        CliRun list = CliRun.withConfig(config, "--json", "list", "--all");
        assertThat(list.code()).as(list.everything()).isZero();
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(list.out()).get("backups").forEach(out::add);
        return out;
    }

    /** The lock objects: not the hidden temporary file of a lock being written, which a kill may leave behind. */
    private List<Path> locks() throws IOException {
        Path locks = repo.resolve("dify/locks");
        if (!Files.isDirectory(locks)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(locks)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).toList();
        }
    }

    @Test
    void twoBackupsStartedAtOnceNeverRunTogether() throws Exception {
        Process a = backup("a");
        Process b = backup("b");
        int codeA = wait(a);
        int codeB = wait(b);

        assertThat(List.of(codeA, codeB)).containsExactlyInAnyOrder(0, Failure.LOCK.exitCode());
        String loser = codeA == 0 ? "b" : "a";
        assertThat(err(loser)).contains("cannot backup: the repository of deployment 'dify'").contains("is locked by lock")
                .contains("(backup) held by 'dify-dr --config " + config + " --json backup'").contains("--lock-wait");
        assertThat(backups()).singleElement().satisfies(bk -> assertThat(bk.get("status").asText()).isEqualTo("completed"));
        assertThat(locks()).isEmpty();
    }

    @Test
    void aSecondBackupWaitsWithLockWaitAndThenRuns() throws Exception {
        Process a = backup("a");
        awaitLock();
        Instant start = Instant.now();
        Process b = backup("b", "--lock-wait", "2m");
        assertThat(wait(a)).as(err("a")).isZero();
        assertThat(wait(b)).as(err("b")).isZero();
        assertThat(Duration.between(start, Instant.now())).isGreaterThan(Duration.ofSeconds(4));
        assertThat(err("b")).contains("is locked by lock").contains("waiting");
        assertThat(backups()).hasSize(2).allSatisfy(bk -> assertThat(bk.get("status").asText()).isEqualTo("completed"));
    }

    @Test
    void aKilledBackupLeavesAStaleLockThatTheNextRunRemoves() throws Exception {
        Process killed = backup("killed");
        awaitLock();
        killed.destroyForcibly().waitFor();
        assertThat(locks()).hasSize(1);

        Process next = backup("next");
        assertThat(wait(next)).as(err("next")).isZero();
        assertThat(err("next")).contains("removing the stale lock").contains("its process " + killed.pid() + " on this host is gone");
        assertThat(locks()).isEmpty();
        assertThat(backups().stream().filter(bk -> bk.get("status").asText().equals("completed"))).hasSize(1);
    }

    @Test
    void unlockRemovesOnlyStaleLocksUnlessAll() throws Exception {
        Process running = backup("running");
        awaitLock();
        CliRun unlock = CliRun.withConfig(config, "--json", "unlock");
        assertThat(unlock.code()).as(unlock.everything()).isZero();
        JsonNode result = JSON.readTree(unlock.out());
        assertThat(result.get("removed")).isEmpty();
        assertThat(result.get("kept").get(0).asText()).contains("(backup)").contains("its run may be alive");
        assertThat(locks()).hasSize(1);

        CliRun all = CliRun.withConfig(config, "--json", "unlock", "--all");
        assertThat(all.code()).isZero();
        assertThat(JSON.readTree(all.out()).get("removed")).hasSize(1);
        assertThat(locks()).isEmpty();
        assertThat(wait(running)).isZero();
    }

    private void awaitLock() throws Exception {
        Instant until = Instant.now().plusSeconds(30);
        while (locks().isEmpty()) {
            assertThat(Instant.now()).as("a lock appears").isBefore(until);
            Thread.sleep(50);
        }
    }

    private static int wait(Process p) throws InterruptedException {
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        return p.exitValue();
    }
}
