package dev.difydr.backup;

import dev.difydr.config.KubernetesConfig;
import dev.difydr.config.PostgresConfig;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.repository.PostgresFacts;
import dev.difydr.source.ChildProcess;
import dev.difydr.source.postgres.PostgresLogicalSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * Every database of the backup ({@link BackupDatabases}: the configured list, or those Dify reads) as one
 * {@code pg_dump -Fc} artifact named after the database, with Dify's facts read in the dump's snapshot.
 */
final class PostgresLogicalBackup implements BackupComponent {
    /** Where Dify's facts are read while a copy streams: one daemon thread per read. */
    static final Executor FACTS = r -> {
        Thread t = new Thread(r, "postgres-facts");
        t.setDaemon(true);
        t.start();
    };

    private final PostgresConfig config;
    private final KubernetesConfig kubernetes;
    private BackupDatabases databases;
    private PostgresLogicalSource source;
    private PostgresLogicalSource.Preflight preflight;

    /** {@code kubernetes} may be null; with it, the databases are chosen or checked against Dify's ({@link BackupDatabases}). */
    PostgresLogicalBackup(PostgresConfig config, KubernetesConfig kubernetes) {
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
        databases = BackupDatabases.choose(config, kubernetes, true);
        source = new PostgresLogicalSource(config.withDatabases(databases.databases()));
        preflight = source.preflight();
        return "PostgreSQL " + preflight.serverVersion() + " at " + source.where() + " as '" + config.user() + "': databases "
                + quoted(preflight.databases()) + " reachable"
                + (preflight.missingOptional().isEmpty() ? "" : "; optional " + quoted(preflight.missingOptional()) + " missing")
                + "; " + preflight.pgDumpVersion();
    }

    @Override
    public List<String> warnings() {
        return databases == null ? List.of() : databases.warnings();
    }

    private static String quoted(List<String> names) {
        return String.join(", ", names.stream().map(n -> "'" + n + "'").toList());
    }

    @Override
    public PostgresFacts backup(BackupContext context) {
        try (PostgresLogicalSource.Preflight p = preflight) {
            for (String missing : p.missingOptional()) {
                context.skip("postgres", missing, "database does not exist on " + source.where());
            }
            List<DatabaseFacts> found = new ArrayList<>();
            for (String db : p.databases()) {
                try (PostgresLogicalSource.Snapshot snapshot = p.snapshot(db)) {
                    // The facts are read in the dump's snapshot while the dump streams, so they cost no extra wall time.
                    CompletableFuture<DatabaseFacts> facts = CompletableFuture.supplyAsync(snapshot::facts, FACTS);
                    try (ChildProcess dump = source.dump(db, snapshot.id())) {
                        context.store(db, "postgres", context.layout().postgresDump(context.id(), db), plain -> {
                            dump.stdout().transferTo(plain);
                            dump.finish();
                        }, dump::close);
                    }
                    found.add(join(facts).withRoles(databases.roles(db)));
                }
            }
            return new PostgresFacts(config.host(), config.port(), p.serverVersion(), p.pgDumpVersion(), found);
        }
    }

    @Override
    public void close() {
        if (preflight != null) {
            preflight.close();
        }
    }

    private static DatabaseFacts join(CompletableFuture<DatabaseFacts> facts) {
        try {
            return facts.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }
}
