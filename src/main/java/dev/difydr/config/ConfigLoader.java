package dev.difydr.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.retention.RetentionPolicy;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.text.similarity.LevenshteinDistance;

/**
 * Reads the YAML configuration, resolves {@code ${env:NAME}} and {@code ${file:PATH}} references, and validates it.
 * Every problem is reported at once, each with the key path it concerns (e.g. {@code postgres.port}).
 */
public final class ConfigLoader {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{(env|file):([^}]*)}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** {@code List<DatabaseSpec>}, the type of a listed {@link DatabaseSelection}. */
    private static final Type DATABASE_LIST = java.util.Arrays.stream(DatabaseSelection.class.getRecordComponents())
            .filter(c -> c.getName().equals("listed")).findFirst().orElseThrow().getGenericType();

    private final Function<String, String> environment;

    public ConfigLoader() {
        this(System::getenv);
    }

    public ConfigLoader(Function<String, String> environment) {
        this.environment = environment;
    }

    public Config load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new DrException(Failure.CONFIG, "configuration file " + file + " not found: pass --config FILE or set DIFY_DR_CONFIG");
        } catch (IOException e) {
            throw new DrException(Failure.CONFIG, "cannot read configuration file " + file + ": " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    public Config parse(String yaml, String origin) {
        JsonNode tree;
        try {
            tree = YAML.readTree(yaml);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new DrException(Failure.CONFIG, origin + " is not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        }
        if (tree == null || !tree.isObject()) {
            throw new DrException(Failure.CONFIG, origin + " must be a YAML mapping with at least a 'repository' section");
        }
        List<String> problems = new ArrayList<>();
        checkKeys(tree, Config.class, "", problems);
        resolveReferences(tree, "", problems);
        // Unknown keys are ignored by the binding, so the remaining checks still run and every problem is reported.
        Config config = null;
        try {
            config = YAML.convertValue(tree, Config.class);
        } catch (IllegalArgumentException e) {
            problems.add(bindingProblem(e));
        }
        if (config != null) {
            validate(config, problems);
        }
        if (!problems.isEmpty()) {
            throw new DrException(Failure.CONFIG, "invalid configuration in " + origin + ":\n  - " + String.join("\n  - ", problems));
        }
        return config;
    }

    /**
     * Reports keys that no record component declares, with the closest known key as a suggestion. Also used for the
     * schedule files, whose keys are a record as well.
     */
    public static void checkKeys(JsonNode node, Type type, String path, List<String> problems) {
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        if (List.class.isAssignableFrom(raw) && node.isArray()) {
            Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
            for (int i = 0; i < node.size(); i++) {
                checkKeys(node.get(i), element, path + "[" + i + "]", problems);
            }
            return;
        }
        if (raw == DatabaseSelection.class) {
            // a word or a list; the list's entries are checked like any other list of records
            if (node.isArray()) {
                checkKeys(node, DATABASE_LIST, path, problems);
            }
            return;
        }
        if (!raw.isRecord() || !node.isObject()) {
            return;
        }
        Map<String, RecordComponent> known = new java.util.LinkedHashMap<>();
        for (RecordComponent c : raw.getRecordComponents()) {
            known.put(c.getName(), c);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
            RecordComponent component = known.get(field.getKey());
            if (component == null) {
                problems.add(key + ": unknown key" + suggestion(field.getKey(), known.keySet())
                        + " (known keys here: " + String.join(", ", known.keySet()) + ")");
            } else {
                checkKeys(field.getValue(), component.getGenericType(), key, problems);
            }
        }
    }

    /** "; did you mean 'x'?" for the known word closest to {@code key}, or "" when none is close. */
    public static String suggestion(String key, Iterable<String> known) {
        LevenshteinDistance distance = LevenshteinDistance.getDefaultInstance();
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance.apply(key.toLowerCase(), k.toLowerCase());
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= Math.max(2, key.length() / 3) ? "; did you mean '" + best + "'?" : "";
    }

    private void resolveReferences(JsonNode node, String path, List<String> problems) {
        if (node instanceof ObjectNode object) {
            for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String key = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                if (field.getValue().isTextual()) {
                    field.setValue(new TextNode(resolve(field.getValue().asText(), key, problems)));
                } else {
                    resolveReferences(field.getValue(), key, problems);
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                String key = path + "[" + i + "]";
                if (array.get(i).isTextual()) {
                    array.set(i, new TextNode(resolve(array.get(i).asText(), key, problems)));
                } else {
                    resolveReferences(array.get(i), key, problems);
                }
            }
        }
    }

    private String resolve(String value, String key, List<String> problems) {
        Matcher m = REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(2).trim();
            String replacement = "";
            if (m.group(1).equals("env")) {
                String v = environment.apply(name);
                if (v == null) {
                    problems.add(key + ": environment variable " + name + " is not set");
                } else {
                    replacement = v;
                }
            } else {
                try {
                    replacement = Files.readString(Path.of(name), StandardCharsets.UTF_8).stripTrailing();
                } catch (IOException e) {
                    problems.add(key + ": cannot read secret file " + name + " (" + e.getClass().getSimpleName() + ")");
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** A Jackson binding failure as {@code key.path: what was expected}. */
    public static String bindingProblem(IllegalArgumentException e) {
        if (e.getCause() instanceof JsonMappingException jme) {
            StringBuilder path = new StringBuilder();
            for (JsonMappingException.Reference r : jme.getPath()) {
                if (r.getFieldName() != null) {
                    path.append(path.length() == 0 ? "" : ".").append(r.getFieldName());
                } else if (r.getIndex() >= 0) {
                    path.append('[').append(r.getIndex()).append(']');
                }
            }
            String expected = jme.getOriginalMessage();
            if (expected.startsWith("expected ")) {
                // a reader of our own already says what is expected
            } else if (expected.contains("Integer") || expected.contains("int")) {
                expected = "expected a whole number";
            } else if (expected.contains("Boolean") || expected.contains("boolean")) {
                expected = "expected true or false";
            } else if (expected.contains("List") || expected.contains("ArrayList")) {
                expected = "expected a list";
            } else {
                expected = "wrong type of value";
            }
            return path + ": " + expected;
        }
        return "cannot read configuration: " + e.getMessage();
    }

    private static void validate(Config c, List<String> problems) {
        if (!c.deployment().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
            problems.add("deployment: '" + c.deployment() + "' must be 1-63 letters, digits, '.', '_' or '-'");
        }
        if (c.repository() == null || c.repository().url() == null || c.repository().url().isBlank()) {
            problems.add("repository.url: missing required key (e.g. file:///var/backups/dify, s3://bucket/prefix or oss://bucket/prefix)");
        } else {
            validateRepositoryUrl(c.repository(), problems);
        }
        if (c.postgres() != null) {
            PostgresConfig pg = c.postgres();
            if (pg.host() == null || pg.host().isBlank()) {
                problems.add("postgres.host: missing required key");
            }
            checkPort("postgres.port", pg.port(), problems);
            if (!List.of("logical", "physical").contains(pg.mode())) {
                problems.add("postgres.mode: '" + pg.mode() + "' must be logical (pg_dump per database) or physical (pg_basebackup of the cluster)");
            }
            if (pg.physical().wal().equals("stream")) {
                // pg_basebackup writes a streamed pg_wal.tar only into a directory of its own, which would mean
                // spooling the backup to local disk; see README "Physical mode".
                problems.add("postgres.physical.wal: 'stream' is not supported by this version; use 'fetch' (the WAL is then inside base.tar)");
            } else if (!pg.physical().wal().equals("fetch")) {
                problems.add("postgres.physical.wal: '" + pg.physical().wal() + "' must be fetch");
            }
            if (!List.of("fast", "spread").contains(pg.physical().checkpoint())) {
                problems.add("postgres.physical.checkpoint: '" + pg.physical().checkpoint() + "' must be fast or spread");
            }
            if (!List.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full").contains(pg.sslmode())) {
                problems.add("postgres.sslmode: '" + pg.sslmode() + "' is not a libpq sslmode (disable, allow, prefer, require, verify-ca, verify-full)");
            }
            validateDatabases(pg.databases(), c.kubernetes() != null, problems);
        }
        if (c.redis() != null) {
            validateRedis("redis", c.redis(), problems);
        }
        if (c.kubernetes() != null) {
            validateKubernetes(c.kubernetes(), problems);
        }
        validateStorage("storage", c.storage(), problems);
        if (c.restore().redis() != null) {
            validateRedis("restore.redis", c.restore().redis(), problems);
        }
        validateStorage("restore.storage", c.restore().storage(), problems);
        if (c.drill().redis() != null) {
            validateRedis("drill.redis", c.drill().redis(), problems);
        }
        validateStorage("drill.storage", c.drill().storage(), problems);
        for (int i = 0; i < c.drill().storage().size(); i++) {
            StorageConfig s = c.drill().storage().get(i);
            if (s != null && s.path() == null) {
                problems.add("drill.storage[" + i + "]: a drill restores into a scratch directory: give path (not pod or bucket)");
            }
        }
        if (c.smoke() != null) {
            validateSmoke("smoke", c.smoke(), problems);
        }
        if (c.drill().smoke() != null) {
            validateSmoke("drill.smoke", c.drill().smoke(), problems);
            if (c.drill().smoke().appKeySecret() != null) {
                problems.add("drill.smoke.appKeySecret: the drill does not read Kubernetes; give the key as drill.smoke.appKey (${env:…} or ${file:…})");
            }
        }
        validateTarget("restore.target", c.restore().target(), problems);
        validateTarget("drill.target", c.drill().target(), problems);
        if (c.drill().namespace() != null && !c.drill().namespace().matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            problems.add("drill.namespace: '" + c.drill().namespace() + "' is not a namespace name (lower-case letters, digits and '-', at most 63)");
        }
        if (c.drill().namespace() != null && c.kubernetes() != null && c.drill().namespace().equals(c.kubernetes().namespace())) {
            problems.add("drill.namespace: a drill re-creates the backup's ConfigMaps and Secrets in a scratch namespace, not in Dify's own ("
                    + c.kubernetes().namespace() + ")");
        }
        if (c.restore().jobs() < 1 || c.restore().jobs() > 64) {
            problems.add("restore.jobs: " + c.restore().jobs() + " is out of range; use 1 to 64");
        }
        for (String key : List.of("maxRtoSeconds", "maxRpoSeconds")) {
            Long v = key.equals("maxRtoSeconds") ? c.drill().maxRtoSeconds() : c.drill().maxRpoSeconds();
            if (v != null && v <= 0) {
                problems.add("drill." + key + ": " + v + " must be a positive number of seconds");
            }
        }
        if (c.encryption() != null && (c.encryption().keyset() == null || c.encryption().keyset().isEmpty())) {
            problems.add("encryption.keyset: missing; give the keyset file written by 'dify-dr keys generate' as"
                    + " \"${file:/path/keyset.json}\" or \"${env:VAR}\" (leave the encryption section out to store in the clear)");
        }
        validateSchedule(c.schedule(), problems);
        validateMetrics(c.metrics(), problems);
        validateNotifications(c.notifications(), problems);
        problems.addAll(RetentionPolicy.problems("retention", c.retention()));
        CompressionConfig z = c.compression();
        if (z.level() < 1 || z.level() > 19) {
            problems.add("compression.level: " + z.level() + " is out of range; use 1 (fastest) to 19");
        }
        if (z.workers() < 0 || z.workers() > 256) {
            problems.add("compression.workers: " + z.workers() + " is out of range; use 0 (one per core) to 256");
        }
    }

    private static void validateSchedule(ScheduleConfig s, List<String> problems) {
        if (!List.of(ScheduleConfig.RAM, ScheduleConfig.JDBC).contains(s.jobStore())) {
            problems.add("schedule.jobStore: '" + s.jobStore() + "' must be ram (one scheduler) or jdbc (a clustered JobStore in PostgreSQL)"
                    + suggestion(s.jobStore(), List.of(ScheduleConfig.RAM, ScheduleConfig.JDBC)));
        }
        if (Durations.parse(s.gracePeriod()).isEmpty()) {
            problems.add("schedule.gracePeriod: '" + s.gracePeriod() + "' must be a duration (" + Durations.EXAMPLES + ")");
        }
        ScheduleConfig.JdbcStore j = s.jdbc();
        if (s.clustered() && j == null) {
            problems.add("schedule.jdbc: missing; jobStore jdbc needs the PostgreSQL database of the JobStore (host, database, user, password)");
        }
        if (!s.clustered() && j != null) {
            problems.add("schedule.jdbc: only used with schedule.jobStore: jdbc");
        }
        if (j != null) {
            if (j.host() == null || j.host().isBlank()) {
                problems.add("schedule.jdbc.host: missing required key");
            }
            if (j.database() == null || j.database().isBlank()) {
                problems.add("schedule.jdbc.database: missing required key (the database that holds Quartz's QRTZ_ tables, e.g. dify_dr)");
            }
            checkPort("schedule.jdbc.port", j.port(), problems);
            if (!List.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full").contains(j.sslmode())) {
                problems.add("schedule.jdbc.sslmode: '" + j.sslmode() + "' is not a libpq sslmode (disable, allow, prefer, require, verify-ca, verify-full)");
            }
        }
    }

    private static void validateMetrics(MetricsConfig m, List<String> problems) {
        if (m.port() != null) {
            checkPort("metrics.port", m.port(), problems);
        }
        if (m.pushgateway() != null) {
            URI uri = httpUrl(m.pushgateway());
            if (uri == null) {
                problems.add("metrics.pushgateway: '" + m.pushgateway() + "' must be an http(s) URL like http://pushgateway.monitoring.svc:9091");
            } else if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/") || uri.getRawQuery() != null
                    || uri.getRawUserInfo() != null) {
                problems.add("metrics.pushgateway: give only scheme, host and port (like http://pushgateway.monitoring.svc:9091); "
                        + "metrics go to /metrics/job/dify-dr/... under it");
            }
        }
    }

    private static void validateNotifications(List<NotificationConfig> targets, List<String> problems) {
        for (int i = 0; i < targets.size(); i++) {
            NotificationConfig n = targets.get(i);
            String key = "notifications[" + i + "]";
            if (n == null) {
                problems.add(key + ": empty entry");
                continue;
            }
            if (n.type() == null || !NotificationConfig.TYPES.contains(n.type())) {
                problems.add(key + ".type: '" + (n.type() == null ? "" : n.type()) + "' must be one of " + String.join(", ", NotificationConfig.TYPES));
            }
            // the URL carries the target's token: never quote it
            if (n.url() == null || n.url().isBlank()) {
                problems.add(key + ".url: missing required key (the webhook URL, best from ${env:…} or ${file:…}: it is a credential)");
            } else if (httpUrl(n.url()) == null) {
                problems.add(key + ".url: must be an http(s) URL (not shown: it holds the target's token)");
            }
            if (n.on().isEmpty()) {
                problems.add(key + ".on: the list is empty; give at least one of " + String.join(", ", NotificationConfig.EVENTS));
            }
            for (String event : n.on()) {
                if (!NotificationConfig.EVENTS.contains(event)) {
                    problems.add(key + ".on: '" + event + "' must be one of " + String.join(", ", NotificationConfig.EVENTS));
                }
            }
            if (n.secret() != null && n.type() != null && !List.of("dingtalk", "feishu", "lark").contains(n.type())) {
                problems.add(key + ".secret: only DingTalk and Feishu/Lark robots sign their messages; a " + n.type() + " target takes none");
            }
        }
    }

    /** The URI when {@code url} is an absolute http(s) URL with a host, else null. */
    private static URI httpUrl(String url) {
        try {
            URI uri = new URI(url);
            return List.of("http", "https").contains(String.valueOf(uri.getScheme())) && uri.getHost() != null ? uri : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static void validateDatabases(DatabaseSelection databases, boolean kubernetes, List<String> problems) {
        String word = databases.word();
        if (word != null) {
            if (word.equalsIgnoreCase(DatabaseSelection.FROM_DIFY) && !databases.isFromDify()) {
                problems.add("postgres.databases: '" + word + "' is not a known value; did you mean '" + DatabaseSelection.FROM_DIFY + "'?");
            } else if (!databases.isFromDify()) {
                problems.add("postgres.databases: '" + word + "' must be " + DatabaseSelection.FROM_DIFY + " (the databases Dify's"
                        + " Deployments read) or a list of databases; for one database write [" + word + "]");
            } else if (!kubernetes) {
                problems.add("postgres.databases: " + DatabaseSelection.FROM_DIFY + " reads the databases from Dify's Deployments and"
                        + " needs the kubernetes section (namespace, and release or workloads); without Kubernetes, list the"
                        + " databases (e.g. [dify, dify_plugin])");
            }
            return;
        }
        List<DatabaseSpec> listed = databases.list();
        if (listed.isEmpty()) {
            problems.add("postgres.databases: the list is empty; name at least one database (e.g. [dify, dify_plugin]) or write "
                    + DatabaseSelection.FROM_DIFY);
        }
        for (int i = 0; i < listed.size(); i++) {
            DatabaseSpec d = listed.get(i);
            if (d == null || d.name() == null || d.name().isBlank()) {
                problems.add("postgres.databases[" + i + "]: missing database name");
            }
        }
    }

    private static void validateRepositoryUrl(RepositoryConfig r, List<String> problems) {
        URI uri;
        try {
            uri = new URI(r.url());
        } catch (Exception e) {
            problems.add("repository.url: '" + r.url() + "' is not a valid URL");
            return;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme();
        switch (scheme) {
            case "file" -> {
                if (uri.getPath() == null || uri.getPath().isEmpty() || uri.getAuthority() != null && !uri.getAuthority().isEmpty()) {
                    problems.add("repository.url: '" + r.url() + "' must be an absolute path like file:///var/backups/dify");
                }
            }
            case "s3" -> {
                if (uri.getHost() == null) {
                    problems.add("repository.url: '" + r.url() + "' must name a bucket like s3://bucket/prefix");
                }
                S3Config s3 = r.s3() == null ? S3Config.DEFAULT : r.s3();
                if (s3.endpoint() != null) {
                    try {
                        URI e = new URI(s3.endpoint());
                        if (!List.of("http", "https").contains(String.valueOf(e.getScheme())) || e.getHost() == null) {
                            problems.add("repository.s3.endpoint: '" + s3.endpoint() + "' must be an http(s) URL like https://minio.example:9000");
                        } else if (e.getPort() != -1) {
                            checkPort("repository.s3.endpoint", e.getPort(), problems);
                        }
                    } catch (Exception e) {
                        problems.add("repository.s3.endpoint: '" + s3.endpoint() + "' is not a valid URL");
                    }
                }
                if (!List.of("when_required", "when_supported").contains(s3.checksums())) {
                    problems.add("repository.s3.checksums: '" + s3.checksums() + "' must be when_required or when_supported");
                }
                if ((s3.accessKeyId() == null) != (s3.secretAccessKey() == null)) {
                    problems.add("repository.s3: accessKeyId and secretAccessKey must be given together (or both left out to use the AWS default credentials)");
                }
                if (s3.partSizeMiB() < 5 || s3.partSizeMiB() > 5120) {
                    problems.add("repository.s3.partSizeMiB: " + s3.partSizeMiB() + " is out of range; S3 parts are 5 to 5120 MiB");
                }
                if (s3.uploadConcurrency() < 1 || s3.uploadConcurrency() > 64) {
                    problems.add("repository.s3.uploadConcurrency: " + s3.uploadConcurrency() + " is out of range; use 1 to 64");
                }
                if (s3.maxAttempts() < 1 || s3.maxAttempts() > 20) {
                    problems.add("repository.s3.maxAttempts: " + s3.maxAttempts() + " is out of range; use 1 to 20");
                }
            }
            case "oss" -> {
                if (uri.getHost() == null) {
                    problems.add("repository.url: '" + r.url() + "' must name a bucket like oss://bucket/prefix");
                }
                validateOss(r.oss() == null ? OssConfig.DEFAULT : r.oss(), problems);
            }
            default -> problems.add("repository.url: scheme '" + scheme + "' is not supported; use file://, s3:// or oss://");
        }
        if (!scheme.equals("s3") && r.s3() != null) {
            problems.add("repository.s3: only used with an s3:// repository.url");
        }
        if (!scheme.equals("oss") && r.oss() != null) {
            problems.add("repository.oss: only used with an oss:// repository.url");
        }
    }

    private static void validateOss(OssConfig oss, List<String> problems) {
        if (oss.endpoint() == null || oss.endpoint().isBlank()) {
            problems.add("repository.oss.endpoint: missing required key (the region endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com)");
        } else {
            try {
                URI e = new URI(oss.endpoint());
                if (!List.of("http", "https").contains(String.valueOf(e.getScheme())) || e.getHost() == null) {
                    problems.add("repository.oss.endpoint: '" + oss.endpoint() + "' must be an http(s) URL like https://oss-cn-hangzhou.aliyuncs.com");
                } else if (e.getPort() != -1) {
                    checkPort("repository.oss.endpoint", e.getPort(), problems);
                }
            } catch (Exception e) {
                problems.add("repository.oss.endpoint: '" + oss.endpoint() + "' is not a valid URL");
            }
        }
        if ((oss.accessKeyId() == null) != (oss.accessKeySecret() == null)) {
            problems.add("repository.oss: accessKeyId and accessKeySecret must be given together (or both left out to use OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET from the environment)");
        }
        if (oss.securityToken() != null && oss.accessKeyId() == null) {
            problems.add("repository.oss.securityToken: only used with accessKeyId and accessKeySecret (the STS temporary keys it belongs to)");
        }
        if (oss.stsEndpoint() != null) {
            if (oss.accessKeyId() != null) {
                problems.add("repository.oss.stsEndpoint: only used for RRSA credentials (ALIBABA_CLOUD_ROLE_ARN, ...), not with accessKeyId and accessKeySecret; remove one of them");
            } else if (oss.stsHost() == null) {
                problems.add("repository.oss.stsEndpoint: '" + oss.stsEndpoint() + "' must be an STS host like sts-vpc.cn-hangzhou.aliyuncs.com "
                        + "(host, host:port or https://host; STS is only reached over HTTPS)");
            }
        }
        if (oss.partSizeMiB() < 1 || oss.partSizeMiB() > 5120) {
            problems.add("repository.oss.partSizeMiB: " + oss.partSizeMiB() + " is out of range; use 1 to 5120 MiB");
        }
        if (oss.uploadConcurrency() < 1 || oss.uploadConcurrency() > 64) {
            problems.add("repository.oss.uploadConcurrency: " + oss.uploadConcurrency() + " is out of range; use 1 to 64");
        }
        if (oss.maxAttempts() < 1 || oss.maxAttempts() > 20) {
            problems.add("repository.oss.maxAttempts: " + oss.maxAttempts() + " is out of range; use 1 to 20");
        }
    }

    private static void validateStorage(String section, List<StorageConfig> storages, List<String> problems) {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < storages.size(); i++) {
            StorageConfig s = storages.get(i);
            String key = section + "[" + i + "]";
            if (s == null) {
                problems.add(key + ": empty entry");
                continue;
            }
            if (s.name() == null || !s.name().matches("[a-z0-9][a-z0-9_-]*")) {
                problems.add(key + ".name: '" + (s.name() == null ? "" : s.name()) + "' must be lower-case letters, digits, '_' or '-' (e.g. app, plugins)");
            } else if (!names.add(s.name())) {
                problems.add(key + ".name: '" + s.name() + "' is used by another storage; names must be unique");
            }
            int sources = (s.path() != null ? 1 : 0) + (s.pod() != null ? 1 : 0) + (s.bucket() != null ? 1 : 0);
            if (sources != 1) {
                problems.add(key + ": give exactly one of path, pod or bucket (found " + sources + ")");
            }
            if (s.path() != null && !s.path().startsWith("/")) {
                problems.add(key + ".path: '" + s.path() + "' must be an absolute directory path");
            }
            if (s.pod() != null) {
                if (s.pod().selector() == null || s.pod().selector().isBlank()) {
                    problems.add(key + ".pod.selector: missing label selector (e.g. app.kubernetes.io/component=api)");
                }
                if (s.pod().path() == null || !s.pod().path().startsWith("/")) {
                    problems.add(key + ".pod.path: missing or not absolute (e.g. /app/api/storage)");
                }
            }
            if (s.bucket() != null) {
                String url = s.bucket().url();
                URI uri = null;
                try {
                    uri = url == null ? null : new URI(url);
                } catch (Exception e) {
                    // reported below
                }
                if (uri == null || !List.of("s3", "oss").contains(String.valueOf(uri.getScheme())) || uri.getHost() == null) {
                    problems.add(key + ".bucket.url: '" + (url == null ? "" : url) + "' must name a bucket like s3://bucket/prefix or oss://bucket/prefix");
                } else if (uri.getScheme().equals("s3") && s.bucket().oss() != null || uri.getScheme().equals("oss") && s.bucket().s3() != null) {
                    problems.add(key + ".bucket: settings for the other store kind than " + uri.getScheme() + ":// were given");
                }
            }
        }
    }

    private static void validateRedis(String section, RedisConfig r, List<String> problems) {
        if (r.host() == null || r.host().isBlank()) {
            problems.add(section + ".host: missing required key");
        }
        checkPort(section + ".port", r.port(), problems);
        if (!List.of(RedisConfig.AUTO, RedisConfig.RDB, RedisConfig.LOGICAL).contains(r.mode())) {
            problems.add(section + ".mode: '" + r.mode() + "' must be auto, rdb or logical");
        }
        if (r.timeoutSeconds() <= 0) {
            problems.add(section + ".timeoutSeconds: " + r.timeoutSeconds() + " must be a positive number of seconds");
        }
        if (r.caFile() != null && !r.tls()) {
            problems.add(section + ".caFile: only used with " + section + ".tls: true");
        } else if (r.caFile() != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(r.caFile()))) {
            problems.add(section + ".caFile: " + r.caFile() + " cannot be read");
        }
    }

    private static void validateKubernetes(KubernetesConfig k, List<String> problems) {
        if ((k.release() == null || k.release().isBlank()) && k.workloads().isEmpty()) {
            problems.add("kubernetes: name the Helm release (kubernetes.release) or list the Deployments (kubernetes.workloads)");
        }
        for (int i = 0; i < k.workloads().size(); i++) {
            KubernetesConfig.WorkloadSpec w = k.workloads().get(i);
            if (w == null || w.name() == null || w.name().isBlank()) {
                problems.add("kubernetes.workloads[" + i + "].name: missing Deployment name");
            }
            if (w != null && (w.role() == null || !dev.difydr.kube.Role.isName(w.role()))) {
                problems.add("kubernetes.workloads[" + i + "].role: '" + (w.role() == null ? "" : w.role())
                        + "' must be one of " + dev.difydr.kube.Role.names());
            }
        }
        if (k.scaleDownTimeoutSeconds() <= 0 || k.rolloutTimeoutSeconds() <= 0 || k.pollSeconds() <= 0) {
            problems.add("kubernetes: scaleDownTimeoutSeconds, rolloutTimeoutSeconds and pollSeconds must be positive");
        }
    }

    private static void validateSmoke(String key, SmokeConfig s, List<String> problems) {
        if (s.api() == null && s.pluginDaemon() == null) {
            problems.add(key + ": give at least the API URL (" + key + ".api, e.g. http://dify-api.dify.svc:5001)");
        }
        for (String[] url : new String[][] {{"api", s.api()}, {"pluginDaemon", s.pluginDaemon()}}) {
            if (url[1] != null && !url[1].matches("https?://[^/\\s]+(/.*)?")) {
                problems.add(key + "." + url[0] + ": '" + url[1] + "' must be an http(s) URL like http://dify-api.dify.svc:5001");
            }
        }
        if (s.appKey() != null && s.appKeySecret() != null) {
            problems.add(key + ": give the app key either as appKey or as appKeySecret, not both");
        }
        if (s.appKeySecret() != null && (s.appKeySecret().name() == null || s.appKeySecret().key() == null)) {
            problems.add(key + ".appKeySecret: needs both name and key of the Secret");
        }
        if (s.deadlineSeconds() <= 0 || s.intervalSeconds() <= 0 || s.requestTimeoutSeconds() <= 0) {
            problems.add(key + ": deadlineSeconds, intervalSeconds and requestTimeoutSeconds must be positive");
        }
    }

    private static void validateTarget(String key, RestoreConfig.PostgresTarget t, List<String> problems) {
        if (t != null && t.port() != null) {
            checkPort(key + ".port", t.port(), problems);
        }
    }

    private static void checkPort(String key, int port, List<String> problems) {
        if (port < 1 || port > 65535) {
            problems.add(key + ": port " + port + " is out of range 1-65535");
        }
    }

}
