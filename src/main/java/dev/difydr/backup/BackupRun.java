package dev.difydr.backup;

import dev.difydr.DrException;
import dev.difydr.ErrorReport;
import dev.difydr.Failure;
import dev.difydr.Version;
import dev.difydr.config.Config;
import dev.difydr.pipeline.Bytes;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.KubernetesFacts;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.PostgresFacts;
import dev.difydr.repository.RedisFacts;
import dev.difydr.repository.Repository;
import dev.difydr.repository.RepositoryLock;
import dev.difydr.repository.StorageFacts;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backup set: every configured component (PostgreSQL, Redis, file storages) stored, then the manifest. A failure
 * of a required component leaves no manifest, so the run never counts as a backup; a failure of an optional one is
 * recorded in the manifest as missing, with the reason.
 */
public final class BackupRun {
    private static final Logger log = LoggerFactory.getLogger(BackupRun.class);

    private final Config config;
    private final Repository repository;
    private final Function<String, Progress> progress;
    private final Clock clock;
    private final Set<String> only;
    private final Supplier<RepositoryLock> lock;

    /**
     * {@code only}: the component kinds to back up ({@link BackupComponents#KINDS}); empty means everything configured.
     * {@code lock} takes the repository lock; it is called once every component passed its preflight and the store is
     * reachable, so that a run refused by its sources touches nothing, and held until the manifest is written.
     */
    public BackupRun(Config config, Repository repository, Function<String, Progress> progress, Clock clock, Set<String> only,
                     Supplier<RepositoryLock> lock) {
        this.config = config;
        this.repository = repository;
        this.progress = progress;
        this.clock = clock;
        this.only = only;
        this.lock = lock;
    }

    public BackupResult run() {
        Instant started = clock.instant();
        BackupId id = BackupId.at(started);
        BackupContext context = new BackupContext(id, repository.layout(), repository.store(), repository.keyring(), config.compression(), progress);
        log.info("backup {} of deployment '{}' to {}", id, config.deployment(), repository.store().describe());
        List<BackupComponent> components = new ArrayList<>();
        RepositoryLock held = null;
        try {
            components.addAll(BackupComponents.from(config, only, repository.keyring() != null));
            repository.store().check();
            List<BackupComponent> ready = new ArrayList<>();
            for (BackupComponent c : components) {
                if (attempt(c, context, () -> {
                    log.info("{} '{}': {}", c.component(), c.name(), c.preflight());
                    c.warnings().forEach(context::warn);
                })) {
                    ready.add(c);
                }
            }
            held = lock.get();
            List<ComponentFacts> facts = new ArrayList<>();
            for (BackupComponent c : ready) {
                ComponentFacts[] found = new ComponentFacts[1];
                if (attempt(c, context, () -> found[0] = c.backup(context))) {
                    facts.add(found[0]);
                }
                c.close();
            }
            List<Manifest.Skipped> skipped = context.skipped();
            List<String> warnings = context.warnings();
            List<StorageFacts> storage = of(facts, StorageFacts.class);
            Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, id.value(), config.deployment(), Version.current(),
                    Manifest.COMPLETED, started, clock.instant(), context.artifacts(), skipped.isEmpty() ? null : skipped,
                    warnings.isEmpty() ? null : warnings,
                    of(facts, PostgresFacts.class).stream().findFirst().orElse(null), of(facts, RedisFacts.class).stream().findFirst().orElse(null),
                    storage.isEmpty() ? null : storage, of(facts, KubernetesFacts.class).stream().findFirst().orElse(null));
            repository.commit(manifest);
            log.info("backup {} completed: {} artifacts, {} stored{}", id, manifest.artifacts().size(), Bytes.human(manifest.storedBytes()),
                    warnings.isEmpty() ? "" : ", with " + warnings.size() + " warning" + (warnings.size() == 1 ? "" : "s") + " (above)");
            return result(id, Manifest.COMPLETED, started, context, null);
        } catch (DrException e) {
            log.error("backup {} failed: {}", id, e.getMessage());
            return result(id, BackupResult.FAILED, started, context, e);
        } catch (RuntimeException e) {
            log.error("backup {} failed", id, e);
            return result(id, BackupResult.FAILED, started, context, new DrException(Failure.INTERNAL, e.toString(), e));
        } finally {
            components.forEach(BackupComponent::close);
            if (held != null) {
                held.close();
            }
        }
    }

    /**
     * Runs one step of a component. A failure of a required component fails the set (rethrown); of an optional one it
     * is recorded as missing and the set goes on without it.
     */
    private static boolean attempt(BackupComponent c, BackupContext context, Runnable step) {
        try {
            step.run();
            return true;
        } catch (DrException e) {
            if (!c.optional()) {
                throw e;
            }
            context.skip(c.component(), c.name(), "optional and failed: " + e.getMessage());
            c.close();
            return false;
        }
    }

    private static <T extends ComponentFacts> List<T> of(List<ComponentFacts> facts, Class<T> type) {
        return facts.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private BackupResult result(BackupId id, String status, Instant started, BackupContext context, DrException error) {
        double seconds = Duration.between(started, clock.instant()).toMillis() / 1000.0;
        List<Artifact> artifacts = context.artifacts();
        List<Manifest.Skipped> skipped = context.skipped();
        List<String> warnings = context.warnings();
        return new BackupResult(id.value(), status, repository.store().describe(), artifacts,
                skipped.isEmpty() ? null : skipped, warnings.isEmpty() ? null : warnings, seconds,
                error == null ? null : ErrorReport.of(error.failure(), error));
    }
}
