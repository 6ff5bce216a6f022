package dev.difydr.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.Printable;
import dev.difydr.config.Config;
import dev.difydr.config.EncryptionConfig;
import dev.difydr.config.Secret;
import dev.difydr.crypto.Keyring;
import dev.difydr.crypto.KeysetFile;
import dev.difydr.crypto.PassphraseWrapping;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.KeyUsage;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.repository.RepositoryLock;
import dev.difydr.verify.VerifyResult;
import dev.difydr.verify.VerifyRun;
import dev.difydr.store.Stores;
import dev.difydr.store.file.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "keys", description = "Generate, rotate and list the encryption keys (a Tink keyset file).",
        subcommands = {KeysCommand.Generate.class, KeysCommand.Rotate.class, KeysCommand.ListKeys.class, KeysCommand.Adopt.class})
final class KeysCommand {
    @ParentCommand
    Cli cli;

    @Command(name = "generate", description = {"Write a new keyset file of one " + Keyring.ALGORITHM + " key, mode 0600; an existing file is never overwritten.",
            "With --wrap passphrase the keyset is encrypted under a passphrase from --passphrase-file or $" + KeysetPassphrase.ENV + "."})
    static final class Generate implements Runnable {
        @ParentCommand
        KeysCommand parent;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The keyset file to create.")
        Path out;

        @Option(names = "--wrap", paramLabel = "none|passphrase", defaultValue = "none",
                description = "'passphrase': encrypt the keyset under the passphrase (default: none, the keyset in the clear).")
        String wrap;

        @Mixin
        KeysetPassphrase passphrase;

        @Override
        public void run() {
            Cli cli = parent.cli;
            PassphraseWrapping wrapping = switch (wrap) {
                case "none" -> {
                    if (passphrase.file != null) {
                        throw new DrException(Failure.USAGE, "--passphrase-file is for a wrapped keyset: add --wrap passphrase");
                    }
                    if (cli.env(KeysetPassphrase.ENV) != null) {
                        LoggerFactory.getLogger(KeysCommand.class).warn("{} is set, but without --wrap passphrase the keyset is written in the clear",
                                KeysetPassphrase.ENV);
                    }
                    yield null;
                }
                case "passphrase" -> {
                    Secret p = passphrase.resolve(cli);
                    if (p == null) {
                        throw new DrException(Failure.CONFIG, "--wrap passphrase needs a passphrase: give --passphrase-file FILE or set "
                                + KeysetPassphrase.ENV + " (never on the command line)");
                    }
                    yield PassphraseWrapping.create(p);
                }
                default -> throw new DrException(Failure.USAGE, "--wrap '" + wrap + "' is neither 'none' nor 'passphrase'");
            };
            KeysetFile file = KeysetFile.generate(Instant.now().truncatedTo(ChronoUnit.SECONDS), wrapping);
            try {
                PrivateFiles.write(out, file.write().getBytes(StandardCharsets.UTF_8));
            } catch (FileAlreadyExistsException e) {
                throw new DrException(Failure.USAGE, out + " exists: 'keys generate' never overwrites a keyset (backups may need it);"
                        + " choose another file, or add a key to it with 'dify-dr keys rotate --keyset " + out + "'");
            } catch (IOException e) {
                throw new DrException(Failure.CONFIG, "cannot write keyset " + out + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            }
            long id = file.keyring().primaryId();
            cli.print(new Generated(out.toString(), id, file.created().get(id), Keyring.ALGORITHM, wrapping != null));
        }
    }

    record Generated(String keyset, long keyId, Instant created, String algorithm, boolean wrapped) implements Printable {
        @Override
        public String toText() {
            return "wrote " + keyset + " (mode 0600): key " + keyId + " (" + algorithm + ")" + (wrapped ? ", wrapped with a passphrase" : "")
                    + "\nkeep a copy offline: backups encrypted under this key cannot be read without it"
                    + (wrapped ? ", nor without the passphrase" : "") + "\n";
        }
    }

    @Command(name = "rotate", description = {"Add a new primary key to a keyset file, rewriting it at once (0600); the old keys stay, for reading",
            "the backups made under them. Nothing in the repository is rewritten. A wrapped file stays wrapped under the same passphrase."})
    static final class Rotate implements Runnable {
        @ParentCommand
        KeysCommand parent;

        @Option(names = "--keyset", required = true, paramLabel = "FILE", description = "The keyset file to rotate.")
        Path keyset;

        @Mixin
        KeysetPassphrase passphrase;

        @Override
        public void run() {
            Cli cli = parent.cli;
            KeysetFile before = read(keyset, passphrase.resolve(cli));
            KeysetFile after = before.rotated(Instant.now().truncatedTo(ChronoUnit.SECONDS));
            try {
                // a symbolic link stays one: the file it points at is replaced
                PrivateFiles.replace(keyset.toRealPath(), after.write().getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new DrException(Failure.CONFIG, "cannot rewrite keyset " + keyset + " (" + e.getClass().getSimpleName() + ": "
                        + e.getMessage() + "); it was left as it was");
            }
            cli.print(new Rotated(keyset.toString(), before.keyring().primaryId(), after.keyring().primaryId(), after.keyring().ids(),
                    after.wrapping() != null));
        }
    }

    record Rotated(String keyset, long previousPrimary, long primary, List<Long> keys, boolean wrapped) implements Printable {
        @Override
        public String toText() {
            return "rotated " + keyset + (wrapped ? " (still wrapped with its passphrase)" : "") + "\n"
                    + "  previous primary key " + previousPrimary + "\n"
                    + "  new primary key      " + primary + "\n"
                    + "  keys                 " + String.join(", ", keys.stream().map(String::valueOf).toList()) + "\n"
                    + "backups from now on are encrypted under key " + primary + " once the configuration reads this file (update the"
                    + " Secret it is mounted from); keep the old keys: the backups made under them need them\n";
        }
    }

    @Command(name = "list", description = {"List the keys of the configured keyset (encryption.keyset) or of --keyset FILE: id, created, which is primary,",
            "and how many backups in the repository use each (left out when --keyset is given and there is no configuration file)."})
    static final class ListKeys implements Runnable {
        @ParentCommand
        KeysCommand parent;

        @Option(names = "--keyset", paramLabel = "FILE", description = "A keyset file instead of the configuration's encryption.keyset.")
        Path keyset;

        @Mixin
        KeysetPassphrase passphrase;

        @Override
        public void run() {
            Cli cli = parent.cli;
            Config config = null;
            KeysetFile file;
            String source;
            String note = null;
            if (keyset != null) {
                file = read(keyset, passphrase.resolve(cli));
                source = keyset.toString();
                if (Files.exists(cli.configPath())) {
                    config = cli.loadConfig();
                } else {
                    note = "no configuration file " + cli.configPath() + ": no repository to count backups in";
                }
            } else {
                config = cli.loadConfig();
                EncryptionConfig encryption = config.encryption();
                if (encryption == null || encryption.keyset() == null || encryption.keyset().isEmpty()) {
                    throw new DrException(Failure.CONFIG, cli.configPath() + " configures no encryption.keyset: give --keyset FILE");
                }
                file = KeysetFile.parse(encryption.keyset().reveal(), encryption.passphrase(), "encryption.keyset");
                source = "encryption.keyset";
            }
            KeyUsage usage = null;
            if (config != null) {
                // Counts as the manifests record them, sealed or not: a backup from before encryption is counted too.
                try (Repository repository = new Repository(Stores.open(config.repository()), config.deployment())) {
                    usage = KeyUsage.of(repository.list(false));
                }
            }
            cli.print(KeyListing.of(source, file, usage, note));
        }
    }

    /** {@code backups}: how many backups have artifacts under the key (null without a repository); {@code inKeyset} false: a key backups need that the keyset lacks. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record KeyRow(long id, boolean primary, Instant created, boolean inKeyset, Integer backups) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record KeyListing(String keyset, boolean wrapped, long primary, List<KeyRow> keys, Integer unencryptedBackups, Integer damagedBackups,
                      String note) implements Printable {

        static KeyListing of(String source, KeysetFile file, KeyUsage usage, String note) {
            Keyring keyring = file.keyring();
            // the primary, then the others newest first (a rotation appends its key to the keyset)
            List<Long> ids = new ArrayList<>(keyring.ids());
            Collections.reverse(ids.subList(1, ids.size()));
            List<KeyRow> rows = new ArrayList<>();
            for (long id : ids) {
                rows.add(new KeyRow(id, id == keyring.primaryId(), file.created().get(id), true, usage == null ? null : usage.backups(id)));
            }
            if (usage != null) {
                usage.backupsByKey().forEach((id, n) -> {
                    if (!keyring.has(id)) {
                        rows.add(new KeyRow(id, false, null, false, n));
                    }
                });
            }
            return new KeyListing(source, file.wrapping() != null, keyring.primaryId(), rows, usage == null ? null : usage.unencrypted(),
                    usage == null ? null : usage.damaged(), note);
        }

        @Override
        public String toText() {
            StringBuilder sb = new StringBuilder("keyset " + keyset + (wrapped ? " (wrapped with a passphrase)" : "") + "\n");
            sb.append(String.format(Locale.ROOT, "%-12s %-21s %s%n", "KEY", "CREATED", "BACKUPS"));
            for (KeyRow k : keys) {
                sb.append(String.format(Locale.ROOT, "%-12d %-21s %-7s %s%n", k.id(), k.created() == null ? "-" : k.created().toString(),
                        k.backups() == null ? "-" : k.backups().toString(),
                        k.primary() ? "primary" : k.inKeyset() ? "" : "NOT IN THIS KEYSET: these backups cannot be read with it").stripTrailing())
                        .append('\n');
            }
            if (unencryptedBackups != null) {
                sb.append("backups not encrypted: ").append(unencryptedBackups).append('\n');
            }
            if (damagedBackups != null && damagedBackups > 0) {
                sb.append("backups whose manifest cannot be read: ").append(damagedBackups).append(" (see 'list')\n");
            }
            if (note != null) {
                sb.append(note).append('\n');
            }
            return sb.toString();
        }
    }

    @Command(name = "adopt", description = {"Seal the manifests of backups made before encryption was configured, so that they count again:",
            "each backup's data is first re-read and checked against its manifest (as 'verify --read-data'); one that fails stays unsealed.",
            "Its artifacts stay as they were (in the clear). Run it only on backups you know are yours."})
    static final class Adopt implements Runnable {
        @ParentCommand
        KeysCommand parent;

        @picocli.CommandLine.Parameters(paramLabel = "ID", arity = "0..*", description = "Backup ids to adopt.")
        List<String> ids = new ArrayList<>();

        @Option(names = "--all", description = "Every backup of the deployment whose manifest carries no seal.")
        boolean all;

        @Mixin
        LockWait lockWait;

        @Override
        public void run() {
            Cli cli = parent.cli;
            if (all == !ids.isEmpty()) {
                throw new DrException(Failure.USAGE, "give backup ids or --all (not both)");
            }
            Config config = cli.loadConfig();
            try (Repository repository = cli.openRepository(config)) {
                if (repository.keyring() == null) {
                    throw new DrException(Failure.CONFIG, "'keys adopt' seals with the configured keyset: set encryption.keyset first");
                }
                List<BackupId> wanted = all
                        ? repository.list(false).stream().map(Repository.Entry::id).toList()
                        : ids.stream().map(id -> {
                            if (!BackupId.isValid(id)) {
                                throw new DrException(Failure.USAGE, "'" + id + "' is not a backup id like 20261122T060000Z-k3m9qa");
                            }
                            return new BackupId(id);
                        }).toList();
                List<Adopted.Row> rows = new ArrayList<>();
                try (RepositoryLock lock = cli.lock(repository, RepositoryLock.Kind.VERIFY, lockWait)) {
                    for (BackupId id : wanted) {
                        rows.add(adopt(cli, repository, id));
                    }
                }
                Adopted result = new Adopted(rows);
                cli.print(result);
                if (rows.stream().anyMatch(r -> r.outcome().equals(Adopted.REFUSED))) {
                    throw new DrException(Failure.VERIFY, "some backups were not adopted (see above): they stay unsealed and unused");
                }
            }
        }

        private static Adopted.Row adopt(Cli cli, Repository repository, BackupId id) {
            Optional<Manifest> unsealed;
            try {
                unsealed = repository.unsealed(id);
            } catch (DrException e) {
                return new Adopted.Row(id.value(), Adopted.REFUSED, e.getMessage());
            }
            if (unsealed.isEmpty()) {
                return new Adopted.Row(id.value(), "already sealed", null);
            }
            Manifest m = unsealed.get();
            if (m.deployment() != null && !m.deployment().equals(repository.layout().deployment())) {
                return new Adopted.Row(id.value(), Adopted.REFUSED, "its manifest names deployment '" + m.deployment() + "', not '"
                        + repository.layout().deployment() + "'");
            }
            VerifyResult verified = new VerifyRun(repository, cli::progress).run(m, a -> true);
            if (!verified.ok()) {
                return new Adopted.Row(id.value(), Adopted.REFUSED, "its data does not match its manifest: " + verified.failures().stream()
                        .map(c -> c.path() + ": " + c.detail()).collect(java.util.stream.Collectors.joining("; ")));
            }
            repository.commit(m);
            return new Adopted.Row(id.value(), "sealed", "read " + m.artifacts().size() + " artifacts; both sha256 match");
        }
    }

    record Adopted(List<Row> backups) implements Printable {
        static final String REFUSED = "refused";

        record Row(String id, String outcome, String detail) {
        }

        @Override
        public String toText() {
            StringBuilder sb = new StringBuilder();
            for (Row r : backups) {
                sb.append(String.format(Locale.ROOT, "%-24s %-15s %s%n", r.id(), r.outcome(), r.detail() == null ? "" : r.detail()).stripTrailing())
                        .append('\n');
            }
            return sb.isEmpty() ? "no backups\n" : sb.toString();
        }
    }

    /** Reads a keyset file; {@code passphrase} opens a wrapped one. */
    static KeysetFile read(Path file, Secret passphrase) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DrException(Failure.CONFIG, "cannot read keyset " + file + " (" + e.getClass().getSimpleName() + ")");
        }
        return KeysetFile.parse(text, passphrase, file.toString());
    }
}
