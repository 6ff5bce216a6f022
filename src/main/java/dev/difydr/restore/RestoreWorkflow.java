package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.Version;
import dev.difydr.config.Config;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.config.PostgresConfig;
import dev.difydr.config.RestoreConfig;
import dev.difydr.config.SmokeConfig;
import dev.difydr.kube.DatabaseEnv;
import dev.difydr.kube.EnvChange;
import dev.difydr.kube.EnvSource;
import dev.difydr.kube.Permissions;
import dev.difydr.kube.RestoreLock;
import dev.difydr.kube.Rewiring;
import dev.difydr.kube.Role;
import dev.difydr.kube.Rollouts;
import dev.difydr.kube.Workload;
import dev.difydr.kube.WorkloadDiscovery;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.BackupId;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import dev.difydr.smoke.SmokeChecks;
import dev.difydr.smoke.SmokeResult;
import dev.difydr.source.postgres.PostgresConnector;
import dev.difydr.source.postgres.PostgresLogicalRestore;
import dev.difydr.verify.VerifyResult;
import dev.difydr.verify.VerifyRun;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restores a backup into Dify on Kubernetes: preflight, record, scale down, restore into fresh databases, validate,
 * rewire, scale up to the recorded replicas, smoke checks, finish — and on any failure after the scale-down, roll
 * back: stop the writers, rewire back, scale back to the recorded replicas, smoke-check the old state. Every step is
 * journaled before and after it runs, so {@link #resume} continues an interrupted restore and {@link #rollback}
 * undoes one. The live databases are never dropped or written.
 */
public final class RestoreWorkflow {
    private static final Logger log = LoggerFactory.getLogger(RestoreWorkflow.class);
    private static final int MAX_IDENTIFIER = 63;

    private final Config config;
    private final KubernetesConfig kube;
    private final Repository repository;
    private final KubernetesClient client;
    private final JournalStore journals;
    private final Function<String, Progress> progress;
    private final StepListener listener;
    private final Clock clock;

    /**
     * What the operator asked for. {@code targetDatabases} holds {@code NAME} (for the main database) or
     * {@code SOURCE=NAME} entries; {@code targetHost} is {@code HOST[:PORT]}; {@code replicas} overrides recorded counts;
     * {@code with} adds {@code redis} and/or {@code storage}, whose keys are replaced and files overwritten only when
     * asked; {@code strict} turns a missing tenant private key (or an unrestorable Redis key) into a failure.
     */
    public record Request(String backup, List<String> targetDatabases, String targetHost, boolean readData, Map<String, Integer> replicas,
                          Set<String> with, boolean redisReplace, boolean storageOverwrite, boolean strict) {
    }

    public RestoreWorkflow(Config config, Repository repository, KubernetesClient client, JournalStore journals,
                           Function<String, Progress> progress, StepListener listener, Clock clock) {
        if (config.postgres() == null) {
            throw new DrException(Failure.CONFIG, "restore needs the postgres section (the server Dify uses) in the configuration");
        }
        if (config.kubernetes() == null) {
            throw new DrException(Failure.CONFIG, "restore needs the kubernetes section (namespace and release of Dify); "
                    + "to restore without touching Dify, use 'dify-dr drill --keep'");
        }
        this.config = config;
        this.kube = config.kubernetes();
        this.repository = repository;
        this.client = client;
        this.journals = journals;
        this.progress = progress;
        this.listener = listener;
        this.clock = clock;
    }

    /** Preflight only: checks everything and decides every target, changing nothing. The journal is not saved. */
    public Journal plan(Request request) {
        Journal j = new Journal();
        j.id = BackupId.at(clock.instant()).value();
        j.deployment = config.deployment();
        j.toolVersion = Version.current();
        j.namespace = kube.namespace();
        j.createdAt = clock.instant();
        j.replicaOverrides.putAll(request.replicas());
        j.redisReplace = request.redisReplace();
        j.storageOverwrite = request.storageOverwrite();
        j.strict = request.strict();
        new Steps(j.steps, () -> { }, listener, clock).run("preflight", () -> preflight(j, request));
        return j;
    }

    /** Runs a planned restore from its record step on. */
    public Journal run(Journal j) {
        lock().acquire(j.id);
        j.state = Journal.RUNNING;
        try {
            save(j);
        } catch (RuntimeException e) {
            release(j);
            throw e;
        }
        log.info("restore {} of backup {} started; journal: {} and {} in the repository", j.id, j.backupId,
                journals.localPath(j.id), journals.repositoryKey(j.id));
        return execute(j);
    }

    /** Continues an interrupted restore (or its interrupted rollback) from its journal. */
    public Journal resume(String restoreId) {
        Journal j = journals.load(restoreId);
        return switch (j.state) {
            case Journal.COMPLETED, Journal.ROLLED_BACK -> {
                log.info("restore {} is {}; nothing to resume", j.id, j.state);
                yield j;
            }
            case Journal.ROLLING_BACK, Journal.ROLLBACK_FAILED -> {
                lock().acquire(j.id);
                yield rollBack(j);
            }
            case Journal.FAILED -> throw new DrException(Failure.USAGE, "restore " + j.id + " failed before it changed anything ("
                    + j.failure + "); start a new restore instead");
            default -> {
                lock().acquire(j.id);
                j.state = Journal.RUNNING;
                yield execute(j);
            }
        };
    }

    /** Undoes a restore: Dify goes back to the databases and replicas recorded before it. */
    public Journal rollback(String restoreId) {
        Journal j = journals.load(restoreId);
        if (Journal.ROLLED_BACK.equals(j.state)) {
            log.info("restore {} is already rolled back", j.id);
            return j;
        }
        if (j.step("scale-down") == null) {
            throw new DrException(Failure.USAGE, "restore " + j.id + " never changed Dify (it stopped before scaling down): nothing to roll back");
        }
        if (!Journal.ROLLING_BACK.equals(j.state) && !Journal.ROLLBACK_FAILED.equals(j.state)) {
            j.rollbackRequested = true;
        }
        lock().acquire(j.id);
        return rollBack(j);
    }

    private Journal execute(Journal j) {
        Manifest manifest = repository.manifest(new BackupId(j.backupId));
        Steps steps = new Steps(j.steps, () -> save(j), listener, clock);
        try {
            steps.run("record", () -> recordStep(j));
            steps.run("scale-down", () -> stop(j));
            steps.run("restore-databases", () -> databases(j, manifest).restoreAll(j.databases));
            steps.run("validate", () -> databases(j, manifest).validate(j.databases));
            if (j.components.stream().anyMatch(c -> c.kind.equals(ComponentSteps.REDIS))) {
                steps.run("restore-redis", () -> components(j, manifest).restoreRedis(j.components, j.redisReplace, j.strict, j.warnings));
            }
            if (j.components.stream().anyMatch(c -> c.kind.equals(ComponentSteps.STORAGE))) {
                steps.run("restore-storage", () -> components(j, manifest).restoreStorage(j.components, j.storageOverwrite, j.strict,
                        mainCopy(j), j.warnings));
            }
            steps.run("rewire", () -> "changed " + rewiring().apply(j.changes, true) + " of " + j.changes.size() + " values");
            steps.run("scale-up", () -> start(j, true));
            steps.run("smoke-checks", () -> smoke(j.smoke));
            steps.run("finish", () -> {
                j.state = Journal.COMPLETED;
                j.finishedAt = clock.instant();
                return "Dify runs on " + j.databases.stream().map(d -> d.target).collect(Collectors.joining(", "));
            });
        } catch (RuntimeException e) {
            j.failure = e.getMessage();
            if (j.step("scale-down") == null) {
                j.state = Journal.FAILED;
                j.finishedAt = clock.instant();
                try {
                    save(j);
                } finally {
                    release(j);
                }
                throw e;
            }
            log.error("restore {} failed: {}; rolling back", j.id, e.getMessage());
            return rollBack(j);
        }
        release(j);
        return j;
    }

    /** Gives up the restore lock; a failure to do so is reported, not allowed to turn a finished restore into a failed one. */
    private void release(Journal j) {
        try {
            lock().release(j.id);
        } catch (DrException e) {
            log.warn("restore {} is {}, but its lock was not released: {}", j.id, j.state, e.getMessage());
        }
    }

    private Journal rollBack(Journal j) {
        j.state = Journal.ROLLING_BACK;
        j.rollbackFailure = null;
        Steps steps = new Steps(j.rollback, () -> save(j), listener, clock);
        try {
            save(j);
            List<String> conflicts = rewiring().conflicts(j.changes);
            if (!conflicts.isEmpty()) {
                throw new DrException(Failure.KUBERNETES, "nothing was rolled back, Dify was left running as it is: " + String.join("; ", conflicts));
            }
            steps.run("rollback-scale-down", () -> stop(j));
            steps.run("rewire-back", () -> "restored " + rewiring().apply(j.changes, false) + " of " + j.changes.size() + " values");
            steps.run("scale-back-up", () -> start(j, false));
            steps.run("smoke-checks-old-state", () -> j.workloads.stream().anyMatch(w -> w.role().equals(Role.API.label()) && w.replicas() > 0)
                    ? smoke(j.rollbackSmoke) : "skipped: Dify's api ran no replicas before the restore, so there is nothing to check");
            j.state = Journal.ROLLED_BACK;
        } catch (RuntimeException e) {
            j.rollbackFailure = e.getMessage();
            j.state = Journal.ROLLBACK_FAILED;
            log.error("rollback of restore {} failed: {}", j.id, e.getMessage());
        }
        j.finishedAt = clock.instant();
        try {
            save(j);
        } catch (DrException e) {
            log.error("cannot record the outcome of restore {}: {}", j.id, e.getMessage());
        }
        if (Journal.ROLLED_BACK.equals(j.state)) {
            release(j);
        }
        return j;
    }

    private void save(Journal j) {
        journals.save(j);
    }

    // ---- preflight and record ----

    private String preflight(Journal j, Request request) {
        Manifest m = repository.resolve(request.backup());
        DatabaseSteps.dumps(m); // a physical backup is refused here, before anything else is checked
        j.backupId = m.id();
        VerifyResult verified = new VerifyRun(repository, progress).run(m.id(), request.readData());
        if (!verified.ok()) {
            throw new DrException(Failure.VERIFY, "backup " + m.id() + " fails verification, refusing to restore it: "
                    + verified.failures().stream().map(c -> c.path() + ": " + c.detail()).collect(Collectors.joining("; ")));
        }
        PostgresConfig target = targetServer(j, request.targetHost());
        PostgresLogicalRestore restore = new PostgresLogicalRestore(new PostgresConnector(target));
        String versions = restore.preflight();

        List<String> missing = new Permissions(client, kube.namespace()).missingForRestore();
        if (!missing.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, "dify-dr may not " + String.join(", ", missing) + " in namespace " + kube.namespace()
                    + "; grant them (the Role in runbooks/incident-restore.md) before restoring");
        }
        lock().checkFree();
        Map<String, List<DatabaseEnv.ContainerSettings>> settings = record(j);
        String owner = owner(settings);
        if (!restore.roleExists(owner)) {
            throw new DrException(Failure.SOURCE, "role '" + owner + "' (Dify's database user) does not exist on PostgreSQL "
                    + restore.where() + ": create it there first, or set restore.databaseOwner");
        }
        checkDifyLogin(settings, j);
        j.databases.clear();
        Map<String, String> names = targetNames(m, request.targetDatabases());
        for (Artifact a : DatabaseSteps.dumps(m)) {
            j.databases.add(new Journal.TargetDatabase(a.name(), names.get(a.name()), owner, a.path(), a.plainBytes()));
        }
        j.components.clear();
        j.components.addAll(components(j, m).plan(request.with()));
        checkPodTargets(j);
        components(j, m).preflight(j.components, j.redisReplace, j.warnings);
        databases(j, m).checkFree(j.databases, "Name the new copies with --target-database SOURCE=NAME (once per database,"
                + " e.g. --target-database dify=dify_r2 --target-database dify_plugin=dify_plugin_r2), or drop the existing one"
                + " if it is an unused copy from an earlier restore");
        j.changes.clear();
        j.changes.addAll(changes(j, settings));
        List<String> obstacles = rewiring().obstacles(j.changes);
        if (!obstacles.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, String.join("; ", obstacles));
        }
        warnAboutAutoscalers(j);
        for (String name : request.replicas().keySet()) {
            if (j.workloads.stream().noneMatch(w -> w.name().equals(name))) {
                throw new DrException(Failure.USAGE, "--replicas names " + name + ", which is not among the Deployments this restore stops: "
                        + j.workloads.stream().map(Journal.RecordedWorkload::name).toList());
            }
        }
        compareSchema(j, m, settings);
        j.smokeChecks.clear();
        if (config.smoke() == null) {
            warn(j, "no smoke checks configured (smoke.api, smoke.pluginDaemon): success will only mean the rollouts became ready");
        } else {
            j.smokeChecks.addAll(new SmokeChecks(smokeConfig()).describe());
        }
        return "backup " + m.id() + " verified" + (request.readData() ? " (every byte re-read)" : " (sizes)") + "; target "
                + restore.where() + " (" + versions + "); " + j.workloads.size() + " Deployments to stop; " + j.changes.size() + " values to change";
    }

    /** Records the Deployments to stop, with their replicas, and returns their database settings as read now. */
    private Map<String, List<DatabaseEnv.ContainerSettings>> record(Journal j) {
        List<Workload> found = new WorkloadDiscovery(client, kube).discover();
        Map<String, List<DatabaseEnv.ContainerSettings>> settings = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        j.workloads.clear();
        j.untouchedWorkloads.clear();
        for (Workload w : found.stream().sorted(Comparator.comparing(Workload::role)).toList()) {
            if (!w.scaled()) {
                j.untouchedWorkloads.add(w.name() + " (" + w.role().label() + ")");
                continue;
            }
            List<DatabaseEnv.ContainerSettings> s = w.database();
            if (s.isEmpty()) {
                problems.add("Deployment " + w.name() + " (" + w.role().label() + ") sets no DB_DATABASE, so Dify's default applies and"
                        + " cannot be rewired: add DB_DATABASE to its environment");
            }
            settings.put(w.name(), s);
            int scaleUpTo = j.replicaOverrides.getOrDefault(w.name(), w.replicas());
            j.workloads.add(new Journal.RecordedWorkload(w.name(), w.role().label(), w.replicas(), scaleUpTo));
            if (scaleUpTo == 0) {
                warn(j, w.name() + " runs 0 replicas now and will be left at 0 after the restore; pass --replicas "
                        + w.name() + "=N to bring it up");
            }
        }
        if (!problems.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, String.join("; ", problems));
        }
        return settings;
    }

    /** The record step: the same picture as preflight, read again just before anything changes. */
    private String recordStep(Journal j) {
        Map<String, List<DatabaseEnv.ContainerSettings>> settings = record(j);
        j.changes.clear();
        j.changes.addAll(changes(j, settings));
        return j.workloads.stream().map(w -> w.name() + "=" + w.replicas()).collect(Collectors.joining(", "))
                + "; " + j.changes.size() + " values to change";
    }

    private static void warn(Journal j, String warning) {
        if (!j.warnings.contains(warning)) {
            j.warnings.add(warning);
        }
    }

    private PostgresConfig targetServer(Journal j, String targetHost) {
        PostgresConfig base = config.postgres();
        RestoreConfig.PostgresTarget t = config.restore().target();
        String host = t != null && t.host() != null ? t.host() : base.host();
        Integer port = t != null && t.port() != null ? t.port() : base.port();
        j.moveServer = t != null && t.host() != null;
        if (targetHost != null) {
            int colon = targetHost.lastIndexOf(':');
            if (targetHost.startsWith("[") && targetHost.contains("]")) {
                int close = targetHost.indexOf(']');
                host = targetHost.substring(1, close);
                if (targetHost.length() > close + 1) {
                    if (targetHost.charAt(close + 1) != ':') {
                        throw new DrException(Failure.USAGE, "--target-host '" + targetHost + "' must be HOST, HOST:PORT or [IPV6]:PORT");
                    }
                    port = parsePort(targetHost, targetHost.substring(close + 2));
                }
            } else if (colon > 0 && targetHost.indexOf(':') == colon) {
                port = parsePort(targetHost, targetHost.substring(colon + 1));
                host = targetHost.substring(0, colon);
            } else {
                host = targetHost;
            }
            j.moveServer = true;
        }
        j.targetHost = host;
        j.targetPort = port;
        return connection(host, port);
    }

    private static int parsePort(String targetHost, String port) {
        try {
            int p = Integer.parseInt(port);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new DrException(Failure.USAGE, "--target-host '" + targetHost + "' must be HOST, HOST:PORT or [IPV6]:PORT with a port of 1-65535");
    }

    /** How dify-dr connects to the target server: its host and port, the rest from restore.target or postgres. */
    private PostgresConfig connection(String host, int port) {
        RestoreConfig.PostgresTarget t = config.restore().target();
        PostgresConfig c = t == null ? config.postgres() : t.over(config.postgres());
        return new PostgresConfig(host, port, c.user(), c.password(), null, null, c.sslmode(), c.binDir());
    }

    private String owner(Map<String, List<DatabaseEnv.ContainerSettings>> settings) {
        if (config.restore().databaseOwner() != null) {
            return config.restore().databaseOwner();
        }
        Set<String> users = settings.values().stream().flatMap(List::stream).map(s -> s.get(DatabaseEnv.USERNAME))
                .filter(u -> u != null && !u.isBlank()).collect(Collectors.toCollection(LinkedHashSet::new));
        if (users.size() > 1) {
            throw new DrException(Failure.CONFIG, "Dify's workloads use different database users " + users
                    + ": set restore.databaseOwner to the one that should own the restored databases");
        }
        return users.isEmpty() ? config.postgres().user() : users.iterator().next();
    }

    /** New database names: given on the command line, or derived from the backup id. */
    private Map<String, String> targetNames(Manifest m, List<String> given) {
        List<Artifact> dumps = DatabaseSteps.dumps(m);
        Map<String, String> names = new LinkedHashMap<>();
        for (String g : given) {
            int eq = g.indexOf('=');
            String source = eq < 0 ? DatabaseSteps.mainDatabase(dumps) : g.substring(0, eq);
            String name = eq < 0 ? g : g.substring(eq + 1);
            if (dumps.stream().noneMatch(a -> a.name().equals(source))) {
                throw new DrException(Failure.USAGE, "--target-database " + g + ": backup " + m.id() + " has no database '" + source
                        + "' (it has " + dumps.stream().map(Artifact::name).toList() + ")");
            }
            names.put(source, checkName(name));
        }
        String suffix = "_restore_" + m.id().toLowerCase(Locale.ROOT).replace("z-", "_");
        for (Artifact a : dumps) {
            names.computeIfAbsent(a.name(), n -> {
                String derived = n + suffix;
                if (derived.length() > MAX_IDENTIFIER) {
                    throw new DrException(Failure.USAGE, "the derived name " + derived + " is longer than PostgreSQL's 63 characters: "
                            + "pass --target-database " + n + "=NAME");
                }
                return derived;
            });
        }
        if (new LinkedHashSet<>(names.values()).size() < names.size()) {
            throw new DrException(Failure.USAGE, "two databases would be restored into the same name: " + names);
        }
        return names;
    }

    private static String checkName(String name) {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*") || name.length() > MAX_IDENTIFIER) {
            throw new DrException(Failure.USAGE, "--target-database '" + name + "' must be 1-63 letters, digits or '_', not starting with a digit");
        }
        return name;
    }

    private static String mainSource(Journal j) {
        return DatabaseSteps.mainDatabase(j.databases.stream().map(d -> new Artifact(d.source, "postgres", d.artifact, 0, 0, null, null, null, null)).toList());
    }


    /**
     * The values to change: each container's {@code DB_DATABASE} goes to the new copy of the database it reads now;
     * one that reads a database the backup lacks goes to the main copy (the plugin daemon to the plugin copy when
     * there is one). {@code DB_HOST}/{@code DB_PORT} follow when the copies live on another server.
     */
    private List<EnvChange> changes(Journal j, Map<String, List<DatabaseEnv.ContainerSettings>> settings) {
        Map<String, String> copies = j.databases.stream().collect(Collectors.toMap(d -> d.source, d -> d.target, (a, b) -> a, LinkedHashMap::new));
        String main = copies.get(mainSource(j));
        String plugin = copies.entrySet().stream().filter(e -> e.getKey().contains("plugin")).map(Map.Entry::getValue).findFirst().orElse(main);
        Map<EnvSource, EnvChange> bySource = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<DatabaseEnv.ContainerSettings>> e : settings.entrySet()) {
            String deployment = e.getKey();
            Role role = Role.of(j.workloads.stream().filter(w -> w.name().equals(deployment)).findFirst().map(Journal.RecordedWorkload::role).orElse("other"));
            for (DatabaseEnv.ContainerSettings s : e.getValue()) {
                String now = s.get(DatabaseEnv.DATABASE);
                String to = copies.get(now);
                if (to == null) {
                    to = role == Role.PLUGIN_DAEMON ? plugin : main;
                    warn(j, "Deployment " + deployment + " container " + s.container() + " reads database '" + now
                            + "', which backup " + j.backupId + " does not hold; it will read " + to);
                }
                add(bySource, s.values().get(DatabaseEnv.DATABASE), to, deployment, problems);
                if (j.moveServer) {
                    for (String[] v : new String[][] {{DatabaseEnv.HOST, j.targetHost}, {DatabaseEnv.PORT, String.valueOf(j.targetPort)}}) {
                        DatabaseEnv.Value current = s.values().get(v[0]);
                        if (current == null) {
                            problems.add("Deployment " + deployment + " container " + s.container() + " sets no " + v[0] + " to point at "
                                    + j.targetHost + ":" + j.targetPort + ": add it to its environment");
                        } else {
                            add(bySource, current, v[1], deployment, problems);
                        }
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, String.join("; ", problems));
        }
        return bySource.values().stream().filter(c -> !c.oldValue().equals(c.newValue())).toList();
    }

    private static void add(Map<EnvSource, EnvChange> bySource, DatabaseEnv.Value current, String to, String deployment, List<String> problems) {
        if (current.value() == null) {
            problems.add(current.source().describe() + " does not exist (the pod could not start)");
            return;
        }
        EnvChange before = bySource.get(current.source());
        if (before == null) {
            bySource.put(current.source(), new EnvChange(current.source(), current.value(), to, new ArrayList<>(List.of(deployment))));
        } else if (!before.newValue().equals(to)) {
            problems.add(current.source().describe() + " is shared by Deployments that need different values (" + before.newValue()
                    + " and " + to + "); give them separate settings first");
        } else if (!before.deployments().contains(deployment)) {
            before.deployments().add(deployment);
        }
    }

    /**
     * Logs in to the target server as Dify will after the rewiring (its DB_USERNAME and DB_PASSWORD), so that a
     * password or pg_hba.conf that would keep Dify out is found before anything is stopped.
     */
    private void checkDifyLogin(Map<String, List<DatabaseEnv.ContainerSettings>> settings, Journal j) {
        Map<String, DatabaseEnv.ContainerSettings> byLogin = new LinkedHashMap<>();
        settings.values().stream().flatMap(List::stream)
                .filter(s -> s.get(DatabaseEnv.USERNAME) != null && s.get(DatabaseEnv.PASSWORD) != null)
                .forEach(s -> byLogin.putIfAbsent(s.get(DatabaseEnv.USERNAME) + "\u0000" + s.get(DatabaseEnv.PASSWORD), s));
        for (DatabaseEnv.ContainerSettings s : byLogin.values()) {
            PostgresConfig login = connection(j.targetHost, j.targetPort);
            login = new PostgresConfig(login.host(), login.port(), s.get(DatabaseEnv.USERNAME), dev.difydr.config.Secret.of(s.get(DatabaseEnv.PASSWORD)),
                    login.databases(), login.mode(), login.sslmode(), login.binDir());
            try (java.sql.Connection ignored = new PostgresConnector(login).connect("postgres")) {
                log.debug("Dify's login {} works on {}:{}", login.user(), j.targetHost, j.targetPort);
            } catch (java.sql.SQLException e) {
                String state = e.getSQLState() == null ? "" : e.getSQLState();
                if (state.equals("28P01")) {
                    throw new DrException(Failure.SOURCE, "Dify's database user '" + login.user() + "' cannot log in to PostgreSQL "
                            + j.targetHost + ":" + j.targetPort + " with the password Dify uses (" + s.values().get(DatabaseEnv.PASSWORD).source().describe()
                            + "): " + e.getMessage() + ". Fix the role's password or pg_hba.conf on that server before restoring");
                }
                warn(j, "cannot check that Dify's user '" + login.user() + "' can log in to " + j.targetHost + ":" + j.targetPort + ": " + e.getMessage());
            }
        }
    }

    private void warnAboutAutoscalers(Journal j) {
        try {
            for (var hpa : client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(kube.namespace()).list().getItems()) {
                var target = hpa.getSpec() == null ? null : hpa.getSpec().getScaleTargetRef();
                if (target != null && j.workloads.stream().anyMatch(w -> w.name().equals(target.getName()))) {
                    warn(j, "HorizontalPodAutoscaler " + hpa.getMetadata().getName() + " scales " + target.getName()
                            + ": it rests while the Deployment is at 0 and resumes after the scale-up; the wait follows whatever count it sets");
                }
            }
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            log.debug("cannot list HorizontalPodAutoscalers: {}", e.getMessage());
        }
    }

    /** Warns when the backup's schema revision differs from the live database's (the running Dify image's). */
    private void compareSchema(Journal j, Manifest m, Map<String, List<DatabaseEnv.ContainerSettings>> settings) {
        String backup = m.postgres() == null ? null : m.postgres().databases().stream().map(DatabaseFacts::alembicVersion)
                .filter(v -> v != null).findFirst().orElse(null);
        String liveDb = settings.values().stream().flatMap(List::stream).map(s -> s.get(DatabaseEnv.DATABASE)).findFirst().orElse(null);
        if (backup == null || liveDb == null) {
            return;
        }
        try {
            String live = new PostgresLogicalRestore(new PostgresConnector(config.postgres())).alembicVersion(liveDb);
            if (live != null && !live.equals(backup)) {
                warn(j, "the backup's schema revision (alembic_version " + backup + ") differs from the live database " + liveDb
                        + " (" + live + "): a newer Dify image migrates the restored copy on start when MIGRATION_ENABLED is true;"
                        + " an older backup on a newer image is fine, a newer backup on an older image is not — run the image the backup was taken with");
            }
        } catch (DrException e) {
            warn(j, "cannot read the live database's schema revision to compare with the backup's (" + e.getMessage() + ")");
        }
    }

    // ---- the steps that act ----

    private String stop(Journal j) {
        Rollouts rollouts = rollouts();
        for (Journal.RecordedWorkload w : j.workloads) {
            rollouts.scale(w.name(), 0);
        }
        List<String> names = j.workloads.stream().map(Journal.RecordedWorkload::name).toList();
        rollouts.awaitStopped(names, Duration.ofSeconds(kube.scaleDownTimeoutSeconds()));
        return "stopped " + String.join(", ", names);
    }

    /** Scales the writers up: to {@code scaleUpTo} after a restore, to the recorded replicas in a rollback. */
    private String start(Journal j, boolean restored) {
        Rollouts rollouts = rollouts();
        Map<String, Integer> wanted = new LinkedHashMap<>();
        List<Journal.RecordedWorkload> pluginDaemonFirst = new ArrayList<>(j.workloads);
        java.util.Collections.reverse(pluginDaemonFirst);
        for (Journal.RecordedWorkload w : pluginDaemonFirst) {
            int replicas = restored ? w.scaleUpTo() : w.replicas();
            rollouts.scale(w.name(), replicas);
            wanted.put(w.name(), replicas);
        }
        rollouts.awaitReady(wanted, Duration.ofSeconds(kube.rolloutTimeoutSeconds()));
        return wanted.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
    }

    private String smoke(List<SmokeResult> into) {
        into.clear();
        if (config.smoke() == null) {
            return "no smoke checks configured";
        }
        into.addAll(new SmokeChecks(smokeConfig()).run());
        List<SmokeResult> failed = into.stream().filter(r -> !r.ok()).toList();
        if (!failed.isEmpty()) {
            throw new DrException(Failure.SMOKE, "smoke checks failed: " + failed.stream().map(r -> r.name() + " (" + r.url() + "): " + r.detail())
                    .collect(Collectors.joining("; ")));
        }
        return into.size() + " checks passed";
    }

    /** The smoke configuration with the app key read from its Kubernetes Secret, when it is kept there. */
    private SmokeConfig smokeConfig() {
        SmokeConfig s = config.smoke();
        if (s.appKeySecret() == null) {
            return s;
        }
        String key = new DatabaseEnv(client, kube.namespace()).secretValue(s.appKeySecret().name(), s.appKeySecret().key())
                .orElseThrow(() -> new DrException(Failure.KUBERNETES, "smoke.appKeySecret: Secret " + s.appKeySecret().name()
                        + " has no key " + s.appKeySecret().key() + " in namespace " + kube.namespace()));
        return s.withAppKey(dev.difydr.config.Secret.of(key));
    }

    private DatabaseSteps databases(Journal j, Manifest m) {
        RestoreConfig r = config.restore();
        return new DatabaseSteps(repository, m, new PostgresLogicalRestore(new PostgresConnector(connection(j.targetHost, j.targetPort))), r.jobs(),
                Path.of(r.tempDir()), progress, () -> save(j));
    }

    /**
     * A storage restored into a pod needs that pod running while the restore writes it; the writers are stopped by
     * then, so a pod of one of them would be gone. Refused here, before anything stops, with what to do instead.
     */
    private void checkPodTargets(Journal j) {
        ComponentSteps.Targets targets = targets();
        for (Journal.ComponentTarget c : j.components) {
            dev.difydr.config.StorageConfig t = c.kind.equals(ComponentSteps.STORAGE) ? targets.storage(c.name) : null;
            if (t == null || t.pod() == null) {
                continue;
            }
            String ns = t.pod().namespace() != null ? t.pod().namespace() : kube.namespace();
            if (!ns.equals(kube.namespace())) {
                continue;
            }
            List<String> missing = new Permissions(client, ns).missing(new String[] {"", "pods/exec", "create"});
            if (!missing.isEmpty()) {
                throw new DrException(Failure.KUBERNETES, "restoring storage '" + c.name + "' into a pod needs permission to "
                        + String.join(", ", missing) + " in namespace " + ns);
            }
            Map<String, Map<String, String>> stopped = new LinkedHashMap<>();
            for (Journal.RecordedWorkload w : j.workloads) {
                var d = client.apps().deployments().inNamespace(ns).withName(w.name()).get();
                if (d != null && d.getSpec().getSelector() != null && d.getSpec().getSelector().getMatchLabels() != null) {
                    stopped.put(w.name(), d.getSpec().getSelector().getMatchLabels());
                }
            }
            for (var pod : client.pods().inNamespace(ns).withLabelSelector(t.pod().selector()).list().getItems()) {
                Map<String, String> labels = pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
                for (Map.Entry<String, Map<String, String>> w : stopped.entrySet()) {
                    if (!w.getValue().isEmpty() && labels.entrySet().containsAll(w.getValue().entrySet())) {
                        throw new DrException(Failure.USAGE, "storage '" + c.name + "' would be restored into pod " + pod.getMetadata().getName()
                                + " of Deployment " + w.getKey() + ", which this restore stops before it restores storage: mount that volume"
                                + " where dify-dr runs and name it in restore.storage (path), or restore the storage by hand"
                                + " (runbooks/incident-restore.md)");
                    }
                }
            }
        }
    }

    private ComponentSteps.Targets targets() {
        return new ComponentSteps.Targets(config.restore().redis() != null ? config.restore().redis() : config.redis(),
                config.restore().storage(), config.storage(), true, "restore.redis (or the redis section)", "restore.storage");
    }

    private ComponentSteps components(Journal j, Manifest m) {
        return new ComponentSteps(repository, m, targets(), progress, () -> save(j), kube);
    }

    /** Where the restored main database is, for the privkeys check: its tenants must all have their key. */
    private ComponentSteps.Database mainCopy(Journal j) {
        String main = mainSource(j);
        String copy = j.databases.stream().filter(d -> d.source.equals(main)).map(d -> d.target).findFirst().orElseThrow();
        return new ComponentSteps.Database(connection(j.targetHost, j.targetPort), copy);
    }

    private Rollouts rollouts() {
        return new Rollouts(client, kube.namespace(), Duration.ofMillis((long) (kube.pollSeconds() * 1000)));
    }

    private RestoreLock lock() {
        return new RestoreLock(client, kube.namespace());
    }

    private Rewiring rewiring() {
        return new Rewiring(client, kube.namespace());
    }
}
