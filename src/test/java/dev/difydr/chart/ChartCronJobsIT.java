package dev.difydr.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.restore.DifyChart;
import dev.difydr.source.storage.PrivkeysCheck;
import dev.difydr.testsupport.CliRun;
import dev.difydr.testsupport.DifyTestbed;
import dev.difydr.testsupport.KubeCluster;
import dev.difydr.testsupport.LocalPostgres;
import dev.difydr.testsupport.PostgresServer;
import dev.difydr.testsupport.RedisContent;
import dev.difydr.testsupport.RedisDataset;
import dev.difydr.testsupport.RedisServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * The chart's CronJobs, run: the chart rendered by Helm's engine with a configuration for a real PostgreSQL (Dify's
 * databases), a real Redis, a file storage and a {@code file://} repository (each on a volume, as on a cluster), an
 * encrypted repository with a wrapped keyset, and the shipped schedules; then each rendered CronJob's container run
 * as the kubelet would run it, in a JVM of its own from the packaged jar through the image's launcher: exactly its
 * command and args, its environment resolved from the rendered and the cluster's Secrets, and every volume a real
 * directory holding what Kubernetes would put there. What they wrote is then read back with dify-dr's own commands
 * (run, as the chart's README says, as Jobs of the restore template with other args) and restored with the standard
 * tools to compare with the source.
 *
 * <p>The liberties taken, and only these: (1) paths such as {@code /etc/dify-dr} cannot be created here, so each
 * volume's mountPath is a directory of this test (a fresh one per pod, a fixed one per PersistentVolumeClaim), and
 * every occurrence of a mountPath in the container's environment values and in the mounted configuration text is
 * rewritten to it, consistently; (2) what the image and the cluster add to every pod stands in for them: the image's
 * {@code ENV} (PATH to java and the PostgreSQL client tools, {@code DIFY_DR_JAR} naming the packaged jar, its launcher
 * as entrypoint) and, instead of the service account token and {@code KUBERNETES_SERVICE_HOST} that Kubernetes injects,
 * {@code KUBERNETES_MASTER} naming the mock API server that holds a rendered Dify.
 */
class ChartCronJobsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DATABASES = List.of("dify", "dify_plugin");
    private static final Path LAUNCHER = Path.of("dify-dr").toAbsolutePath();
    private static final String PASSPHRASE = "chart run passphrase " + UUID.randomUUID();
    private static final long RUN_TIMEOUT_MINUTES = 10;

    @TempDir
    static Path tmp;

    private static PostgresServer pg;
    private static RedisServer redis;
    private static KubeCluster cluster;
    private static final Map<String, String> sourceDumps = new LinkedHashMap<>();
    /** PersistentVolumeClaim name to the directory standing in for its volume. */
    private static final Map<String, Path> claims = new TreeMap<>();
    /** The Secrets of the cluster, by name: the operator's own and, once rendered, the chart's. */
    private static final Map<String, Secret> secrets = new TreeMap<>();
    private static final List<String> secretValues = new ArrayList<>();
    private static int pods;

    @BeforeAll
    static void servers() throws IOException {
        pg = PostgresServer.start();
        pg.loadDifyFixtures();
        // Dify's own login, as the rendered Dify's Secret gives it: the restore plan checks it can log in
        pg.psql("postgres", "-c", "CREATE ROLE dify LOGIN PASSWORD '" + DifyTestbed.DIFY_PASSWORD + "'");
        for (String db : DATABASES) {
            sourceDumps.put(db, pg.comparableDump(db));
        }
        redis = RedisServer.start();
        try (Jedis j = redis.jedis()) {
            RedisDataset.load(j);
        }
        cluster = KubeCluster.start();
        cluster.secret("dify-credentials", KubeCluster.doubanCredentials(DifyTestbed.DIFY_PASSWORD));
        DifyChart dify = DifyChart.douban("dify");
        cluster.load(dify.file());
        awaitRunning(dify.api());

        Path storage = Files.createDirectories(tmp.resolve("volumes/dify-storage"));
        for (String tenant : pg.psql("dify", "-At", "-c", "SELECT id FROM tenants ORDER BY id").strip().split("\n")) {
            Path key = storage.resolve(PrivkeysCheck.keyPath(tenant));
            Files.createDirectories(key.getParent());
            Files.writeString(key, "-----BEGIN RSA PRIVATE KEY-----\n" + tenant + "\n-----END RSA PRIVATE KEY-----\n");
            Path upload = storage.resolve("upload_files/" + tenant + "/report " + tenant + ".pdf");
            Files.createDirectories(upload.getParent());
            Files.write(upload, new byte[40_000 + Math.abs(tenant.hashCode() % 1000)]);
        }
        claims.put("dify-storage", storage);
        claims.put("dify-dr-repository", Files.createDirectories(tmp.resolve("volumes/dify-dr-repository")));

        Path passphraseFile = tmp.resolve("passphrase");
        Files.writeString(passphraseFile, PASSPHRASE + "\n");
        Path keyset = tmp.resolve("keyset.json");
        CliRun generate = CliRun.of("keys", "generate", "--out", keyset.toString(), "--wrap", "passphrase", "--passphrase-file", passphraseFile.toString());
        assertThat(generate.code()).as(generate.everything()).isZero();
        secret("dify-dr-secrets", Map.of("pg-password", pg.password()));
        secret("dify-redis", Map.of("redis-password", redis.password()));
        secret("dify-dr-keyset", Map.of("keyset.json", Files.readString(keyset)));
        secret("dify-dr-keyset-passphrase", Map.of("passphrase", PASSPHRASE));
        secretValues.addAll(List.of(pg.password(), redis.password(), PASSPHRASE, DifyTestbed.DIFY_PASSWORD));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {cluster, redis, pg}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // best effort
            }
        }
    }

    /** The values an operator would write: secrets stay references, filled from Secrets by secretMounts, extraEnv and encryption. */
    private static String values() {
        return """
                image: {repository: registry.example.com/dify-dr, tag: test}
                config:
                  deployment: dify
                  repository: {url: "file:///var/backups/dify-dr"}
                  postgres:
                    host: %s
                    port: %d
                    user: %s
                    password: "${file:/var/run/secrets/dify-dr/pg-password}"
                    databases: [dify, dify_plugin]
                  redis: {host: %s, port: %d, password: "${env:REDIS_PASSWORD}"}
                  storage:
                    - {name: app, path: /app/api/storage}
                  kubernetes: {namespace: dify, release: dify}
                  encryption:
                    keyset: "${file:/var/run/secrets/dify-dr-keyset/keyset.json}"
                    passphrase: "${env:DIFY_DR_KEYSET_PASSPHRASE}"
                  drill:
                    storage: [{name: app, path: /var/lib/dify-dr-drill/app}]
                  retention: {keepLast: 1, minKeep: 1}
                encryption:
                  existingSecret: dify-dr-keyset
                  passphraseSecret: {name: dify-dr-keyset-passphrase, key: passphrase}
                secretMounts: [{name: dify-dr-secrets, mountPath: /var/run/secrets/dify-dr}]
                extraEnv:
                  - name: REDIS_PASSWORD
                    valueFrom: {secretKeyRef: {name: dify-redis, key: redis-password}}
                extraVolumes:
                  - {name: dify-storage, persistentVolumeClaim: {claimName: dify-storage}}
                  - {name: repository, persistentVolumeClaim: {claimName: dify-dr-repository}}
                  - {name: drill-scratch, emptyDir: {}}
                extraVolumeMounts:
                  - {name: dify-storage, mountPath: /app/api/storage, readOnly: true}
                  - {name: repository, mountPath: /var/backups/dify-dr}
                  - {name: drill-scratch, mountPath: /var/lib/dify-dr-drill}
                """.formatted(pg.host(), pg.port(), pg.user(), redis.host(), redis.port());
    }

    @Test
    void theRenderedCronJobsBackUpVerifyDrillAndPruneAndWhatTheyWroteRestoresToTheSource() throws IOException {
        List<HasMetadata> objects = HelmChart.objects(HelmChart.template(values(), tmp));
        for (Secret s : HelmChart.all(objects, Secret.class)) {
            assertThat(secrets).as("the chart renders Secret %s, which the operator's would clash with", s.getMetadata().getName())
                    .doesNotContainKey(s.getMetadata().getName());
            secrets.put(s.getMetadata().getName(), s);
        }
        String renderedConfig = value(secrets.get("dify-dr-config"), "config.yaml");
        assertThat(renderedConfig).contains("${file:/var/run/secrets/dify-dr/pg-password}", "${env:REDIS_PASSWORD}");
        assertThat(secretValues).allSatisfy(v -> assertThat(renderedConfig).doesNotContain(v));
        Map<String, CronJob> bySchedule = new TreeMap<>();
        CronJob restoreTemplate = null;
        for (CronJob cj : HelmChart.all(objects, CronJob.class)) {
            String schedule = cj.getMetadata().getLabels().get("dify-dr/schedule");
            if (schedule != null) {
                bySchedule.put(schedule, cj);
            } else if (cj.getMetadata().getName().equals(HelmChart.RELEASE + "-restore")) {
                restoreTemplate = cj;
            }
        }
        assertThat(bySchedule).containsOnlyKeys("nightly-backup", "hourly-redis-backup", "weekly-verify", "quarterly-drill", "daily-prune");
        assertThat(restoreTemplate).as("the restore template").isNotNull();
        CronJob restore = restoreTemplate;

        // 02:00 the nightly backup: everything configured
        Exit nightly = run(bySchedule.get("nightly-backup"));
        assertThat(nightly.code()).as(nightly.describe()).isZero();
        JsonNode listed = listing(restore);
        assertThat(listed).hasSize(1);
        String nightlyId = listed.get(0).get("id").asText();
        assertThat(listed.get(0).get("status").asText()).isEqualTo("completed");
        assertThat(listed.get(0).get("components")).extracting(JsonNode::asText).contains("postgres", "redis", "storage");

        // :15, twice: Redis only. `latest` passes over them: the verify, the drill and the restore plan below all take
        // the nightly backup, as they must on a cluster where the 06:00 drill follows the 05:15 Redis backup.
        Exit hourly = run(bySchedule.get("hourly-redis-backup"));
        assertThat(hourly.code()).as(hourly.describe()).isZero();
        Exit hourlyAgain = run(bySchedule.get("hourly-redis-backup"));
        assertThat(hourlyAgain.code()).as(hourlyAgain.describe()).isZero();
        listed = listing(restore);
        assertThat(listed).hasSize(3);
        assertThat(listed.get(0).get("components")).extracting(JsonNode::asText).containsExactly("redis");
        String newestRedis = listed.get(0).get("id").asText();
        String olderRedis = listed.get(1).get("id").asText();

        // Sunday 05:00: every byte of the latest backup re-read
        Exit verify = run(bySchedule.get("weekly-verify"));
        assertThat(verify.code()).as(verify.describe()).isZero();
        assertThat(verify.out()).contains(nightlyId);
        assertThat(claims.get("dify-dr-repository").resolve("dify/backups/" + nightlyId + "/verify.json")).exists();

        // the quarterly drill: restored into scratch databases and the scratch storage, validated, reported
        Exit drill = run(bySchedule.get("quarterly-drill"));
        assertThat(drill.code()).as(drill.describe()).isZero();
        List<Path> reports;
        try (Stream<Path> s = Files.list(claims.get("dify-dr-repository").resolve("dify/drills"))) {
            reports = s.map(d -> d.resolve("report.json")).toList();
        }
        assertThat(reports).singleElement().satisfies(r -> {
            JsonNode report = JSON.readTree(Files.readString(r));
            assertThat(report.get("status").asText()).isEqualTo("passed");
            assertThat(report.get("backupId").asText()).isEqualTo(nightlyId);
            assertThat(report.get("databases")).hasSize(2).allSatisfy(d -> assertThat(d.get("validated").asBoolean()).isTrue());
            assertThat(report.get("steps")).extracting(st -> st.get("name").asText()).contains("restore-databases", "validate", "restore-storage");
        });
        assertThat(pg.psql("postgres", "-At", "-c", "SELECT datname FROM pg_database").lines()).noneMatch(db -> db.contains("_drill_"));

        // the restore template as it is rendered: restore latest --plan, against the cluster's Dify; changes nothing
        Exit plan = run(restore);
        assertThat(plan.code()).as(plan.describe()).isZero();
        assertThat(plan.out()).contains(nightlyId, "dify-api (api) 1 -> 0", "dify-plugin-daemon (plugin-daemon) 1 -> 0");
        assertThat(cluster.client().apps().deployments().withName("dify-api").get().getSpec().getReplicas()).isEqualTo(1);

        // 04:30 the prune, with the configuration's retention (keepLast 1, minKeep 1) applied to each set of components
        // on its own: the nightly backup and the newest Redis backup stay, the older Redis backup goes
        Exit prune = run(bySchedule.get("daily-prune"));
        assertThat(prune.code()).as(prune.describe()).isZero();
        listed = listing(restore);
        assertThat(listed).extracting(b -> b.get("id").asText()).containsExactly(newestRedis, nightlyId);
        assertThat(listed).allSatisfy(b -> assertThat(b.get("status").asText()).isEqualTo("completed"));
        assertThat(claims.get("dify-dr-repository").resolve("dify/backups/" + olderRedis)).doesNotExist();

        for (String id : List.of(nightlyId, newestRedis)) {
            Exit read = run(restore, "--json", "verify", id, "--read-data");
            assertThat(read.code()).as(read.describe()).isZero();
            assertThat(JSON.readTree(read.out()).get("status").asText()).isEqualTo("ok");
        }

        // what the backups hold, decrypted by dify-dr and restored with the standard tools, equals the source
        Map<String, String> nightlyArtifacts = artifacts(restore, nightlyId);
        for (String db : DATABASES) {
            Path dump = decrypt(restore, nightlyArtifacts.get(db));
            pg.restoreWithStandardTools(dump, "restored_" + db);
            assertThat(pg.comparableDump("restored_" + db)).as(db).isEqualTo(sourceDumps.get(db));
        }
        Path tar = decrypt(restore, nightlyArtifacts.get("app"));
        Path untarred = Files.createDirectories(tmp.resolve("restored-storage"));
        shell(List.of("bash", "-o", "pipefail", "-c", "zstd -q -dc \"$1\" | tar -x -C \"$2\"", "untar", tar.toString(), untarred.toString()));
        assertThat(tree(untarred)).isEqualTo(tree(claims.get("dify-storage")));

        Path rdb = tmp.resolve("dump.rdb");
        shell(List.of("bash", "-o", "pipefail", "-c", "zstd -q -dc \"$1\" > \"$2\"", "unzstd", decrypt(restore, artifacts(restore, newestRedis).get("redis")).toString(), rdb.toString()));
        try (RedisServer restored = RedisServer.options().dbfilename(rdb).start(); Jedis j = restored.jedis(); Jedis source = redis.jedis()) {
            // both read now, so that TTLs counting down compare
            assertThat(RedisContent.of(j, RedisDataset.DATABASES).differences(RedisContent.of(source, RedisDataset.DATABASES))).isEmpty();
        }

        for (Exit e : exits) {
            assertThat(secretValues).as("secrets in the output of %s", e.args()).allSatisfy(v -> assertThat(e.everything()).doesNotContain(v));
        }
    }

    // --- the pods

    private final List<Exit> exits = new ArrayList<>();

    /** One container's run: its command line, exit code, stdout (for decrypt: bytes, in a file) and stderr. */
    record Exit(List<String> args, int code, Path stdout, String err) {
        String out() {
            try {
                return Files.readString(stdout);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /** Stdout and stderr as bytes (decrypt writes binary), for the search for secrets. */
        String everything() {
            try {
                return new String(Files.readAllBytes(stdout), StandardCharsets.ISO_8859_1) + err;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        String describe() {
            return args + " exited " + code + "\n--- stdout\n" + out() + "\n--- stderr\n" + err;
        }
    }

    private Exit run(CronJob cronJob, String... args) {
        return run(cronJob, args.length == 0 ? null : List.of(args));
    }

    /**
     * A Job of the CronJob, as {@code kubectl create job --from=cronjob/…} makes it (with other args when given, as the
     * chart's README does with the restore template): its one container run in a fresh pod.
     */
    private Exit run(CronJob cronJob, List<String> otherArgs) {
        PodSpec pod = cronJob.getSpec().getJobTemplate().getSpec().getTemplate().getSpec();
        assertThat(pod.getContainers()).hasSize(1);
        assertThat(pod.getInitContainers()).isEmpty();
        Container c = pod.getContainers().get(0);
        Path root;
        try {
            root = Files.createDirectories(tmp.resolve("pods/" + cronJob.getMetadata().getName() + "-" + (++pods)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Map<String, Path> mounts = new LinkedHashMap<>();
        for (VolumeMount m : c.getVolumeMounts()) {
            Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst()
                    .orElseThrow(() -> new AssertionError("mount " + m.getMountPath() + " names no volume " + m.getName()));
            Path dir = v.getPersistentVolumeClaim() != null ? claims.get(v.getPersistentVolumeClaim().getClaimName())
                    : root.resolve(m.getMountPath().substring(1));
            assertThat(dir).as("claim of volume %s", v.getName()).isNotNull();
            assertThat(mounts.put(m.getMountPath(), dir)).as("two mounts at %s", m.getMountPath()).isNull();
        }
        UnaryOperator<String> inPod = mountPathsRewritten(mounts);

        Map<String, String> env = new LinkedHashMap<>();
        // the image's ENV (src/main/docker/Dockerfile)
        Path javaHome = Path.of(System.getProperty("java.home"));
        Path pgBin = Path.of(LocalPostgres.tool("pg_dump")).toAbsolutePath().getParent();
        env.put("JAVA_HOME", javaHome.toString());
        env.put("LANG", "C.UTF-8");
        env.put("HOME", inPod.apply("/tmp"));
        env.put("PATH", pgBin + ":" + javaHome.resolve("bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("DIFY_DR_JAR", jar().toString());
        // what Kubernetes gives every pod: its API (here the mock's URL instead of the service account token)
        env.putAll(Map.of("KUBERNETES_MASTER", cluster.url(), "KUBERNETES_AUTH_TRYKUBECONFIG", "false",
                "KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false", "HTTP2_DISABLE", "true"));
        for (EnvFromSource from : c.getEnvFrom()) {
            assertThat(from.getSecretRef()).as("envFrom other than a Secret").isNotNull();
            Secret s = secret(from.getSecretRef().getName());
            keys(s).forEach(k -> env.put((from.getPrefix() == null ? "" : from.getPrefix()) + k, value(s, k)));
        }
        for (EnvVar e : c.getEnv()) {
            if (e.getValueFrom() == null) {
                env.put(e.getName(), inPod.apply(e.getValue() == null ? "" : e.getValue()));
            } else {
                SecretKeySelector ref = e.getValueFrom().getSecretKeyRef();
                assertThat(ref).as("env %s from something other than a Secret key", e.getName()).isNotNull();
                env.put(e.getName(), value(secret(ref.getName()), ref.getKey()));
            }
        }
        String configPath = c.getEnv().stream().filter(e -> e.getName().equals("DIFY_DR_CONFIG")).map(EnvVar::getValue).findFirst().orElseThrow();

        for (VolumeMount m : c.getVolumeMounts()) {
            Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst().orElseThrow();
            Path dir = mounts.get(m.getMountPath());
            try {
                Files.createDirectories(dir);
                if (v.getSecret() != null) {
                    Secret s = secret(v.getSecret().getSecretName());
                    Map<String, String> files = new LinkedHashMap<>();
                    if (v.getSecret().getItems() == null || v.getSecret().getItems().isEmpty()) {
                        keys(s).forEach(k -> files.put(k, k));
                    } else {
                        for (KeyToPath item : v.getSecret().getItems()) {
                            files.put(item.getKey(), item.getPath());
                        }
                    }
                    for (Map.Entry<String, String> f : files.entrySet()) {
                        Path file = dir.resolve(f.getValue());
                        String content = value(s, f.getKey());
                        // the one file whose text names pod paths: the configuration
                        if ((m.getMountPath() + "/" + f.getValue()).equals(configPath)) {
                            content = inPod.apply(content);
                        }
                        Files.createDirectories(file.getParent());
                        Files.writeString(file, content);
                        Integer mode = v.getSecret().getDefaultMode();
                        if (mode != null) {
                            Files.setPosixFilePermissions(file, permissions(mode));
                        }
                    }
                } else {
                    assertThat(v.getEmptyDir() != null || v.getPersistentVolumeClaim() != null).as("volume %s of a kind this test mounts", v.getName()).isTrue();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        assertThat(Path.of(env.get("DIFY_DR_CONFIG"))).as("DIFY_DR_CONFIG points at the mounted configuration").isRegularFile();

        List<String> command = new ArrayList<>(c.getCommand().isEmpty() ? List.of(LAUNCHER.toString()) : c.getCommand());
        List<String> args = otherArgs != null ? otherArgs : c.getArgs();
        command.addAll(args);
        Path workdir = mounts.getOrDefault("/tmp", root);
        Path stdout = root.resolve("stdout");
        Path stderr = root.resolve("stderr");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workdir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            if (!p.waitFor(RUN_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(args + " did not finish in " + RUN_TIMEOUT_MINUTES + " minutes: " + Files.readString(stderr));
            }
            Exit exit = new Exit(args, p.exitValue(), stdout, Files.readString(stderr));
            exits.add(exit);
            return exit;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Every mountPath in {@code text}, where it is a whole path or the start of one ({@code /tmp} and {@code /tmp/state},
     * not {@code /tmpfs} nor {@code /x/tmp}), replaced by the directory standing in for it; in one pass, longest first.
     */
    static UnaryOperator<String> mountPathsRewritten(Map<String, Path> mounts) {
        List<String> paths = mounts.keySet().stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
        Pattern p = Pattern.compile("(?<![\\w.-])(" + paths.stream().map(Pattern::quote).collect(Collectors.joining("|")) + ")(?![\\w.-])");
        return text -> p.matcher(text).replaceAll(r -> Matcher.quoteReplacement(mounts.get(r.group(1)).toString()));
    }

    private static Path jar() {
        Path jar = Path.of(System.getProperty("dify-dr.jar", "target/dify-dr.jar")).toAbsolutePath();
        assertThat(jar).as("the packaged jar (mvn verify builds it; failsafe names it in -Ddify-dr.jar)").isRegularFile();
        return jar;
    }

    // --- reading back, as Jobs of the restore template

    private JsonNode listing(CronJob restore) throws IOException {
        Exit list = run(restore, "--json", "list");
        assertThat(list.code()).as(list.describe()).isZero();
        return JSON.readTree(list.out()).get("backups");
    }

    /** A backup's artifacts: name (database, storage, "redis") to path. */
    private Map<String, String> artifacts(CronJob restore, String id) throws IOException {
        Exit show = run(restore, "--json", "show", id);
        assertThat(show.code()).as(show.describe()).isZero();
        Map<String, String> out = new HashMap<>();
        for (JsonNode a : JSON.readTree(show.out()).get("artifacts")) {
            assertThat(a.get("encryption").asText()).as(a.get("path").asText()).isNotEqualTo("none");
            out.put(a.get("kind").asText().equals("redis") ? "redis" : a.get("name").asText(), a.get("path").asText());
        }
        return out;
    }

    /** {@code dify-dr decrypt PATH}: the artifact's compressed bytes, in a file. */
    private Path decrypt(CronJob restore, String path) {
        assertThat(path).isNotNull();
        Exit decrypt = run(restore, "decrypt", path);
        assertThat(decrypt.code()).as(decrypt.args() + ": " + decrypt.err()).isZero();
        return decrypt.stdout();
    }

    // --- helpers

    private static void secret(String name, Map<String, String> stringData) {
        secrets.put(name, new SecretBuilder().withNewMetadata().withName(name).withNamespace(HelmChart.NAMESPACE).endMetadata()
                .withType("Opaque").withStringData(stringData).build());
    }

    /** A Secret the pod names; a missing one would keep the pod from starting. */
    private static Secret secret(String name) {
        Secret s = secrets.get(name);
        assertThat(s).as("Secret %s, which the pod needs", name).isNotNull();
        return s;
    }

    private static Set<String> keys(Secret s) {
        Set<String> keys = new java.util.TreeSet<>();
        if (s.getStringData() != null) {
            keys.addAll(s.getStringData().keySet());
        }
        if (s.getData() != null) {
            keys.addAll(s.getData().keySet());
        }
        return keys;
    }

    private static String value(Secret s, String key) {
        if (s.getStringData() != null && s.getStringData().containsKey(key)) {
            return s.getStringData().get(key);
        }
        assertThat(s.getData()).as("Secret %s key %s", s.getMetadata().getName(), key).containsKey(key);
        return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ … OTHERS_EXECUTE, high bit first
        for (int i = 0; i < 9; i++) {
            if ((mode & (1 << (8 - i))) != 0) {
                out.add(bits[i]);
            }
        }
        return out;
    }

    /** Every regular file under {@code dir}: relative path to the SHA-256 of its content. */
    private static Map<String, String> tree(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString(), sha256(Files.readAllBytes(p)));
            }
        }
        return out;
    }

    private static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void shell(List<String> command) {
        dev.difydr.testsupport.Commands.run(command, Map.of(), null);
    }

    private static void awaitRunning(String deployment) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (cluster.controller().runningPods(deployment) < 1) {
            assertThat(System.nanoTime()).as("%s has a running pod", deployment).isLessThan(deadline);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
