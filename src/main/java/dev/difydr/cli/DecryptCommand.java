package dev.difydr.cli;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Config;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * The way out to the standard tools for an encrypted repository: an artifact's compressed bytes on stdout, decrypted
 * and authenticated. It takes no repository lock, so that read-only credentials suffice in an emergency; a prune that
 * removes the backup meanwhile makes it fail, never print other bytes.
 */
@Command(name = "decrypt", description = {"Write an artifact's decrypted bytes (still zstd-compressed) to stdout, and nothing else; logs go to stderr:",
        "  dify-dr decrypt <deployment>/backups/<id>/postgres/dify.dump.zst.enc | zstd -dc | pg_restore -d NEWDB",
        "An artifact stored without encryption is copied as it is. On any failure, discard what was written."})
final class DecryptCommand implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(DecryptCommand.class);

    @ParentCommand
    Cli cli;

    @Parameters(paramLabel = "PATH", description = "The artifact's path in the repository, as 'show' prints it.")
    String path;

    @Override
    public void run() {
        if (cli.json()) {
            throw new DrException(Failure.USAGE, "decrypt writes the artifact's bytes to stdout: --json does not apply");
        }
        Config config = cli.loadConfig();
        try (Repository repository = cli.openRepository(config)) {
            BackupId id = repository.layout().backupOf(path).orElseThrow(() -> new DrException(Failure.USAGE, "'" + path
                    + "' is not the path of an artifact of deployment '" + config.deployment() + "': expected "
                    + repository.layout().backupsPrefix() + "<backup id>/…, as 'show' prints it"));
            Manifest manifest;
            try {
                manifest = repository.manifest(id);
            } catch (DrException e) {
                throw new DrException(e.failure(), "cannot decrypt " + path + ": " + e.getMessage(), e);
            }
            Artifact artifact = manifest.artifacts().stream().filter(a -> a.path().equals(path)).findFirst()
                    .orElseThrow(() -> new DrException(Failure.VERIFY, "backup " + id + " has no artifact " + path + "; its artifacts: "
                            + String.join(", ", manifest.artifacts().stream().map(Artifact::path).toList())));
            if (!artifact.encrypted()) {
                log.info("artifact {} is not encrypted: its stored bytes are copied as they are", path);
            }
            long written = copy(new ArtifactReader(repository), id, artifact, System.out);
            log.info("wrote {} bytes of {} (zstd; decompress with 'zstd -dc')", written, path);
        }
    }

    /** Copies the artifact's compressed bytes to {@code out}; an unencrypted one is checked against its recorded sha256 at the end. */
    private static long copy(ArtifactReader reader, BackupId id, Artifact a, PrintStream out) {
        MessageDigest digest = a.encrypted() ? null : sha256();
        long written = 0;
        boolean closed = false;
        try (InputStream in = reader.openCompressed(id.value(), a)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while (!closed && (n = in.read(buffer)) > 0) {
                if (digest != null) {
                    digest.update(buffer, 0, n);
                }
                out.write(buffer, 0, n);
                written += n;
                // a PrintStream keeps write errors to itself; this also flushes
                closed = out.checkError();
            }
        } catch (IOException e) {
            throw new DrException(Failure.VERIFY, "artifact " + a.path() + " cannot be read: " + e.getMessage() + discard(written), e);
        } catch (DrException e) {
            throw written == 0 ? e : new DrException(e.failure(), e.getMessage() + discard(written), e);
        }
        if (closed) {
            throw new DrException(Failure.USAGE, "stdout was closed before artifact " + a.path() + " was written in full" + discard(written));
        }
        if (digest != null && !HexFormat.of().formatHex(digest.digest()).equals(a.sha256())) {
            throw new DrException(Failure.VERIFY, "artifact " + a.path() + " is damaged: its sha256 differs from the manifest's" + discard(written));
        }
        return written;
    }

    private static String discard(long written) {
        return written == 0 ? "" : "; the " + written + " bytes already written to stdout are incomplete or unverified: discard them";
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
        }
    }
}
