package dev.difydr.backup;

import dev.difydr.config.KubernetesConfig;
import dev.difydr.config.PostgresConfig;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.repository.PostgresFacts;
import dev.difydr.source.ChildProcess;
import dev.difydr.source.postgres.PostgresPhysicalSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The whole PostgreSQL cluster as one artifact {@code base}: the tar {@code pg_basebackup} streams, with the WAL that
 * makes it consistent and its backup_manifest inside. Dify's facts are read over a normal connection meanwhile.
 */
final class PostgresPhysicalBackup implements BackupComponent {
    static final String FACTS_NOTE = "read over a normal connection while the copy ran: approximate, the copy is of a slightly later moment";

    private final PostgresConfig config;
    private final KubernetesConfig kubernetes;
    private BackupDatabases databases;
    private PostgresPhysicalSource source;
    private PostgresPhysicalSource.Preflight preflight;

    /** {@code kubernetes} may be null; with it, the databases whose facts are recorded get their roles for Dify. */
    PostgresPhysicalBackup(PostgresConfig config, KubernetesConfig kubernetes) {
        this.config = config;
        this.kubernetes = kubernetes;
    }

    @Override
    public String component() {
        return "postgres";
    }

    @Override
    public boolean optional() {
        return false;
    }

    @Override
    public String preflight() {
        // The copy holds every database of the server; the choice only decides whose facts the manifest records.
        databases = BackupDatabases.choose(config, kubernetes, false);
        source = new PostgresPhysicalSource(config.withDatabases(databases.databases()));
        preflight = source.preflight();
        return "PostgreSQL " + preflight.serverVersion() + " at " + source.where() + " (physical: " + preflight.pgBasebackupVersion()
                + ", " + dev.difydr.pipeline.Bytes.human(preflight.databasesBytes()) + " of databases)";
    }

    @Override
    public List<String> warnings() {
        return databases == null ? List.of() : databases.warnings();
    }

    @Override
    public PostgresFacts backup(BackupContext context) {
        String label = "dify-dr-" + context.id();
        CompletableFuture<List<DatabaseFacts>> facts = CompletableFuture.supplyAsync(source::approximateFacts, PostgresLogicalBackup.FACTS);
        PostgresPhysicalSource.Start[] start = {PostgresPhysicalSource.Start.UNKNOWN_START};
        try (ChildProcess basebackup = source.basebackup(label)) {
            context.store("base", "postgres", context.layout().postgresPhysical(context.id(), "base"), plain -> {
                start[0] = PostgresPhysicalSource.copyReadingStart(basebackup.stdout(), plain);
                basebackup.finish();
            }, basebackup::close);
        }
        PostgresFacts.Physical physical = new PostgresFacts.Physical(preflight.pgBasebackupVersion(), config.physical().wal(),
                config.physical().checkpoint(), label, start[0].lsn(), start[0].timeline(), preflight.databasesBytes(),
                preflight.tablespaces(), FACTS_NOTE);
        return new PostgresFacts(config.host(), config.port(), preflight.serverVersion(), null, join(facts), physical);
    }

    private List<DatabaseFacts> join(CompletableFuture<List<DatabaseFacts>> facts) {
        try {
            return facts.join().stream().map(f -> f.withRoles(databases.roles(f.name()))).toList();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }
}
