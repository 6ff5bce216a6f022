package dev.difydr.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** A {@code pg_dump} for {@code postgres.binDir} that waits before it dumps, so that a backup is still running when a test acts. */
public final class SlowPgDump {
    private SlowPgDump() {
    }

    /** Writes {@code dir/pg_dump} that sleeps {@code seconds} (not for {@code --version}) and then runs the real one; returns dir. */
    public static Path install(Path dir, int seconds) throws IOException {
        Files.createDirectories(dir);
        Path dump = dir.resolve("pg_dump");
        Files.writeString(dump, """
                #!/bin/sh
                case "$*" in *--version*) ;; *) sleep %d ;; esac
                exec %s "$@"
                """.formatted(seconds, onPath("pg_dump")));
        Files.setPosixFilePermissions(dump, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    private static String onPath(String tool) throws IOException {
        for (String d : System.getenv("PATH").split(":")) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new IOException(tool + " not on PATH");
    }
}
