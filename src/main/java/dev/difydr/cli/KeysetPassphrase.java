package dev.difydr.cli;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where the {@code keys} commands find the passphrase of a wrapped keyset: {@code --passphrase-file}, else
 * {@value #ENV}. Never on the command line, where {@code ps} and the shell history would show it.
 */
final class KeysetPassphrase {
    static final String ENV = "DIFY_DR_KEYSET_PASSPHRASE";

    @Option(names = "--passphrase-file", paramLabel = "FILE",
            description = "Read the keyset passphrase from FILE (trailing newline ignored); default: $" + ENV + ".")
    Path file;

    /** The passphrase, or null when neither the file nor the variable gives one. */
    Secret resolve(Cli cli) {
        if (file != null) {
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8).stripTrailing();
            } catch (IOException e) {
                throw new DrException(Failure.CONFIG, "cannot read passphrase file " + file + " (" + e.getClass().getSimpleName() + ")");
            }
            if (text.isEmpty()) {
                throw new DrException(Failure.CONFIG, "passphrase file " + file + " is empty");
            }
            return Secret.of(text);
        }
        String env = cli.env(ENV);
        return env == null || env.isEmpty() ? null : Secret.of(env);
    }
}
