package dev.difydr.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetServerTest {
    @TempDir
    Path dir;

    private Config config(String restore) throws IOException {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, """
                deployment: d
                repository: {url: file:///tmp/r}
                postgres: {host: pg.dify.svc, port: 5432, user: postgres}
                """ + restore);
        return new ConfigLoader().load(file);
    }

    @Test
    void difysOwnServerUnlessTheRestoreNamesAnother() throws IOException {
        assertThat(TargetServer.resolve(config(""), null)).isEqualTo(new TargetServer("pg.dify.svc", 5432, false));
        assertThat(TargetServer.resolve(config("restore: {target: {host: pg2, port: 6432}}\n"), null))
                .isEqualTo(new TargetServer("pg2", 6432, true));
        assertThat(TargetServer.resolve(config(""), "other")).isEqualTo(new TargetServer("other", 5432, true));
        assertThat(TargetServer.resolve(config(""), "other:7000")).isEqualTo(new TargetServer("other", 7000, true));
        assertThat(TargetServer.resolve(config(""), "[fd00::1]:7000")).isEqualTo(new TargetServer("fd00::1", 7000, true));
        assertThat(TargetServer.resolve(config(""), "[fd00::1]")).isEqualTo(new TargetServer("fd00::1", 5432, true));
    }

    @Test
    void aMalformedHostOrPortIsRefused() throws IOException {
        Config c = config("");
        assertThatThrownBy(() -> TargetServer.resolve(c, "h:0")).hasMessageContaining("port of 1-65535");
        assertThatThrownBy(() -> TargetServer.resolve(c, "h:x")).hasMessageContaining("port of 1-65535");
        assertThatThrownBy(() -> TargetServer.resolve(c, "[fd00::1]x")).hasMessageContaining("must be HOST, HOST:PORT or [IPV6]:PORT");
    }
}
