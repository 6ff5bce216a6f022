package dev.difydr.backup;

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

/** Every configured database as one {@code pg_dump -Fc} artifact, with Dify's facts read in the dump's snapshot. */
final class PostgresLogicalBackup implements BackupComponent {
    /** Where Dify's facts are read while a copy streams: one daemon thread per read. */
    static final Executor FACTS = r -> {
        Thread t = new Thread(r, "postgres-facts");
        t.setDaemon(true);
        t.start();
    };

    private final PostgresConfig config;
    private final PostgresLogicalSource source;
    private PostgresLogicalSource.Preflight preflight;

    PostgresLogicalBackup(PostgresConfig config) {
        this.config = config;
        this.source = new PostgresLogicalSource(config);
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
        preflight = source.preflight();
        return "PostgreSQL " + preflight.serverVersion() + " at " + source.where() + " as '" + config.user() + "': databases "
                + quoted(preflight.databases()) + " reachable"
                + (preflight.missingOptional().isEmpty() ? "" : "; optional " + quoted(preflight.missingOptional()) + " missing")
                + "; " + preflight.pgDumpVersion();
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
            List<DatabaseFacts> databases = new ArrayList<>();
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
                    databases.add(join(facts));
                }
            }
            return new PostgresFacts(config.host(), config.port(), p.serverVersion(), p.pgDumpVersion(), databases);
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
