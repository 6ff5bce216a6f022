package dev.difydr.source.postgres;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.Printable;
import dev.difydr.pipeline.Bytes;
import dev.difydr.pipeline.Progress;
import dev.difydr.pipeline.ArtifactReader;
import dev.difydr.pipeline.VerifiedPlainInput;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.PostgresFacts;
import dev.difydr.repository.Repository;
import dev.difydr.source.storage.StorageRestore;
import dev.difydr.source.storage.TarExtractor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a physical backup back into a PostgreSQL data directory: base.tar extracted into a new (missing or empty)
 * directory, every stored byte checked against the manifest's SHA-256 on the way. It never writes into a directory
 * that holds anything, and removes what it extracted when it fails. Starting PostgreSQL on the result is left to the
 * operator: with {@code --wal-method=fetch} the WAL it needs is inside, and the start is a crash recovery.
 */
public final class PostgresPhysicalRestore {
    private static final Logger log = LoggerFactory.getLogger(PostgresPhysicalRestore.class);

    private final Repository repository;
    private final Function<String, Progress> progress;

    public PostgresPhysicalRestore(Repository repository, Function<String, Progress> progress) {
        this.repository = repository;
        this.progress = progress;
    }

    /** What was restored where, and what the operator does next. */
    public record Result(String backupId, String dataDirectory, String serverVersion, String startLsn, long files, long bytes)
            implements Printable {

        public int exitCode() {
            return 0;
        }

        @Override
        public String toText() {
            return """
                    backup %s restored into %s: %d files, %s
                    PostgreSQL %s, backup started at WAL %s
                    next:
                      1. chown -R postgres:postgres %2$s   (the user that will run the server; the directory is mode 0700)
                      2. start a PostgreSQL %s on it, e.g. pg_ctl -D %2$s -l %2$s.log start (as that user)
                         it replays the WAL inside the backup, like after a crash, then accepts connections
                      3. check it: psql -c 'select count(*) from accounts' dify; pg_verifybackup %2$s also works (backup_manifest is inside)
                    """.formatted(backupId, dataDirectory, files, Bytes.human(bytes), serverVersion,
                    startLsn == null ? "(not recorded)" : startLsn, serverVersion.replaceAll("\\..*", ""));
        }
    }

    public Result restore(String idOrLatest, Path dataDirectory) {
        Manifest m = repository.resolve(idOrLatest);
        PostgresFacts pg = m.postgres();
        if (pg == null || !pg.isPhysical()) {
            throw new DrException(Failure.USAGE, "backup " + m.id() + " is not a physical backup (it holds "
                    + (pg == null ? "no PostgreSQL data" : "pg_dump archives, one per database") + "): --data-directory restores only"
                    + " backups taken with postgres.mode physical; restore this one without --data-directory");
        }
        String basePath = repository.layout().postgresPhysical(new BackupId(m.id()), "base");
        List<Artifact> archives = m.artifacts().stream().filter(a -> "postgres".equals(a.kind())).toList();
        Artifact base = archives.stream().filter(a -> a.path().equals(basePath)).findFirst().orElseThrow(() ->
                new DrException(Failure.VERIFY, "backup " + m.id() + " has no " + basePath + ": nothing to restore"));
        if (archives.size() > 1) {
            throw new DrException(Failure.VERIFY, "backup " + m.id() + " holds PostgreSQL archives this version cannot place: "
                    + archives.stream().map(Artifact::path).filter(p -> !p.equals(basePath)).toList());
        }
        Path dir = dataDirectory.toAbsolutePath().normalize();
        prepare(dir);
        try {
            StorageRestore.Result extracted = extract(m.id(), base, dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            log.info("backup {} restored into {}: {} files, {}", m.id(), dir, extracted.files(), Bytes.human(extracted.bytes()));
            return new Result(m.id(), dir.toString(), pg.serverVersion(), pg.physical().startLsn(), extracted.files(), extracted.bytes());
        } catch (IOException e) {
            clear(dir);
            throw new DrException(Failure.STORE, "cannot restore " + base.path() + " into " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            clear(dir);
            throw e;
        }
    }

    /** Creates the directory, or accepts it when empty; anything in it is the operator's and is refused. */
    private static void prepare(Path dir) {
        try {
            if (Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isDirectory(dir)) {
                    throw new DrException(Failure.USAGE, "--data-directory " + dir + " exists and is not a directory");
                }
                try (Stream<Path> entries = Files.list(dir)) {
                    if (entries.findAny().isPresent()) {
                        throw new DrException(Failure.USAGE, "--data-directory " + dir + " is not empty: dify-dr restores only into a"
                                + " new or empty directory and never writes over existing files; name another one");
                    }
                }
            } else {
                Files.createDirectories(dir.getParent());
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        } catch (IOException e) {
            throw new DrException(Failure.USAGE, "cannot use --data-directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Extracts one stored archive; its stored bytes are checked against the manifest as they are read. */
    private StorageRestore.Result extract(String backupId, Artifact archive, Path dir) throws IOException {
        try (Progress p = progress.apply("restore " + archive.name());
             VerifiedPlainInput plain = new ArtifactReader(repository).openPlain(backupId, archive, p)) {
            StorageRestore.Result r = TarExtractor.extract(plain, dir, false);
            // tar pads its end with zero blocks the extractor does not read: the whole artifact must still be checked
            plain.readToEnd();
            return r;
        }
    }

    /** Removes what this restore extracted; the directory itself stays, empty, as the operator named it. */
    private static void clear(Path dir) {
        try {
            TarExtractor.clear(dir);
        } catch (IOException e) {
            log.warn("cannot clear {}: {}", dir, e.getMessage());
        }
    }
}
