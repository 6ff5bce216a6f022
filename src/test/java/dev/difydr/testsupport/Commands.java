package dev.difydr.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Runs a command to completion; a non-zero exit fails the test with the command's stderr. */
public final class Commands {
    private Commands() {
    }

    public static String run(List<String> command, Map<String, String> env, Path dir) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        try {
            Process p = pb.start();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            String out = read(p.getInputStream());
            int code = p.waitFor();
            if (code != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + code + ": " + err.join());
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
