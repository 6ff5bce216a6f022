package dev.difydr.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.repository.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final String MINIMAL = """
            repository:
              url: file:///var/backups/dify
            """;

    private final ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);

    private static String problems(ConfigLoader loader, String yaml) {
        DrException e = catchThrowableOfType(DrException.class, () -> loader.parse(yaml, "test.yaml"));
        assertThat(e).as("configuration should be refused:%n%s", yaml).isNotNull();
        assertThat(e.failure()).isEqualTo(Failure.CONFIG);
        assertThat(e.getMessage()).startsWith("invalid configuration in test.yaml");
        return e.getMessage();
    }

    private String problems(String yaml) {
        return problems(loader, yaml);
    }

    @Test
    void readmeConfigurationExampleIsValid() throws java.io.IOException {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("```yaml\n", readme.indexOf("## Configuration")) + "```yaml\n".length();
        String example = readme.substring(start, readme.indexOf("```", start)).replace("${file:", "${env:");
        ConfigLoader everyReferenceSet = new ConfigLoader(name -> "value-of-" + name);

        Config c = everyReferenceSet.parse(example, "README.md");

        assertThat(c.kubernetes().release()).isEqualTo("dify");
        assertThat(c.kubernetes().workloads()).extracting(KubernetesConfig.WorkloadSpec::role).containsExactly("api");
        assertThat(c.smoke().appKey().reveal()).startsWith("value-of-");
        assertThat(c.restore().target().host()).isEqualTo("pg-new.example");
        assertThat(c.drill().databases()).containsEntry("dify", "dify_drill");
        assertThat(c.drill().maxRpoSeconds()).isEqualTo(93600L);
        assertThat(c.drill().namespace()).isEqualTo("dify-drill");
    }

    @Test
    void restoreSectionsAreValidated() {
        String p = problems(MINIMAL + """
                kubernetes: {namespace: dify, workloads: [{name: dify-api, role: apii}], pollSeconds: 0}
                smoke: {api: "dify-api:5001"}
                restore: {jobs: 0, target: {port: 70000}}
                drill: {maxRtoSeconds: -1, namespace: dify}
                """);

        assertThat(p).contains("kubernetes.workloads[0].role: 'apii' must be one of [api, worker, beat, plugin-daemon, web, sandbox, other]")
                .contains("kubernetes: scaleDownTimeoutSeconds, rolloutTimeoutSeconds and pollSeconds must be positive")
                .contains("smoke.api: 'dify-api:5001' must be an http(s) URL")
                .contains("restore.jobs: 0 is out of range")
                .contains("restore.target.port: port 70000 is out of range")
                .contains("drill.maxRtoSeconds: -1 must be a positive number of seconds")
                .contains("drill.namespace: a drill re-creates the backup's ConfigMaps and Secrets in a scratch namespace, not in Dify's own (dify)");
        assertThat(problems(MINIMAL + "kubernetes: {namespace: dify}\n")).contains("name the Helm release (kubernetes.release) or list the Deployments");
        assertThat(problems(MINIMAL + "smoke: {api: 'http://a:5001', appKey: k, appKeySecret: {name: s}}\n"
                + "drill: {smoke: {api: 'http://b:5001', appKeySecret: {name: s, key: k}}}\n"))
                .contains("smoke: give the app key either as appKey or as appKeySecret, not both")
                .contains("smoke.appKeySecret: needs both name and key of the Secret")
                .contains("drill.smoke.appKeySecret: the drill does not read Kubernetes");
    }

    @Test
    void encryptionNeedsAKeysetAndHidesIt() {
        assertThat(problems(MINIMAL + "encryption: {passphrase: \"${env:P}\"}\n")).contains("encryption.keyset: missing");
        assertThat(problems(MINIMAL + "encryption: {keyset: x, passphrse: y}\n")).contains("encryption.passphrse").contains("passphrase");

        Config c = new ConfigLoader(name -> "the-keyset-text").parse(MINIMAL + "encryption: {keyset: \"${env:K}\"}\n", "test.yaml");
        assertThat(c.encryption().keyset().reveal()).isEqualTo("the-keyset-text");
        assertThat(c.encryption().passphrase()).isNull();
        assertThat(c.toString()).doesNotContain("the-keyset-text");
        assertThat(loader.parse(MINIMAL, "test.yaml").encryption()).isNull();
    }

    @Test
    void minimalConfigurationGetsDefaults() {
        Config c = loader.parse(MINIMAL + "postgres: {host: db}\n", "test.yaml");

        assertThat(c.deployment()).isEqualTo("dify");
        assertThat(c.repository().url()).isEqualTo("file:///var/backups/dify");
        assertThat(c.postgres().port()).isEqualTo(5432);
        assertThat(c.postgres().user()).isEqualTo("postgres");
        assertThat(c.postgres().databases().isFromDify()).isFalse();
        assertThat(c.postgres().databases().list()).containsExactly(new DatabaseSpec("dify", false), new DatabaseSpec("dify_plugin", true));
        assertThat(c.compression().level()).isEqualTo(3);
    }

    @Test
    void unknownKeysAreNamedWithTheirPathAndASuggestion() {
        String message = problems("""
                repository:
                  urll: file:///var/backups/dify
                postgress:
                  host: db
                """);

        assertThat(message)
                .contains("repository.urll: unknown key; did you mean 'url'?")
                .contains("postgress: unknown key; did you mean 'postgres'?");
    }

    @Test
    void unknownKeyFarFromAnyKnownOneGetsNoSuggestion() {
        String message = problems(MINIMAL + "flavour: vanilla\n");

        assertThat(message).contains("flavour: unknown key").doesNotContain("did you mean");
    }

    @Test
    void missingRepositoryUrl() {
        assertThat(problems("postgres: {host: db}\n")).contains("repository.url: missing required key");
        assertThat(problems("repository: {}\npostgres: {host: db}\n")).contains("repository.url: missing required key");
    }

    @Test
    void portOutOfRange() {
        assertThat(problems(MINIMAL + "postgres: {host: db, port: 70000}\n"))
                .contains("postgres.port: port 70000 is out of range 1-65535");
        assertThat(problems(MINIMAL + "postgres: {host: db, port: 0}\n"))
                .contains("postgres.port: port 0 is out of range 1-65535");
    }

    @Test
    void redisSectionIsValidated(@TempDir Path dir) throws Exception {
        assertThat(problems(MINIMAL + "redis: {port: 6379}\n")).contains("redis.host: missing required key");
        assertThat(problems(MINIMAL + "redis: {host: r, port: 70000}\n")).contains("redis.port: port 70000 is out of range 1-65535");
        assertThat(problems(MINIMAL + "redis: {host: r, mode: aof}\n")).contains("redis.mode: 'aof' must be auto, rdb or logical");
        assertThat(problems(MINIMAL + "redis: {host: r, timeoutSeconds: 0}\n")).contains("redis.timeoutSeconds: 0 must be a positive");
        assertThat(problems(MINIMAL + "redis: {host: r, caFile: /etc/ca.pem}\n")).contains("redis.caFile: only used with redis.tls: true");
        assertThat(problems(MINIMAL + "redis: {host: r, tls: true, caFile: " + dir.resolve("missing.pem") + "}\n"))
                .contains("redis.caFile: " + dir.resolve("missing.pem") + " cannot be read");

        Path ca = dir.resolve("ca.pem");
        Files.writeString(ca, "not checked here\n");
        Config c = loader.parse(MINIMAL + "redis: {host: r, user: backup, password: s3cret, tls: true, caFile: " + ca + ", mode: logical}\n", "test.yaml");
        assertThat(c.redis().port()).isEqualTo(6379);
        assertThat(c.redis().mode()).isEqualTo("logical");
        assertThat(c.redis().timeoutSeconds()).isEqualTo(60);
        assertThat(c.redis().toString()).doesNotContain("s3cret");
    }

    @Test
    void portThatIsNotANumber() {
        assertThat(problems(MINIMAL + "postgres: {host: db, port: abc}\n"))
                .contains("postgres.port: expected a whole number");
    }

    @Test
    void unsupportedUrlScheme() {
        assertThat(problems("repository: {url: 'ftp://backups.example/dify'}\n"))
                .contains("repository.url: scheme 'ftp' is not supported");
        assertThat(problems("repository: {url: '/var/backups/dify'}\n"))
                .contains("repository.url: scheme '' is not supported");
    }

    @Test
    void s3EndpointThatIsNotAUrl() {
        assertThat(problems("""
                repository:
                  url: s3://dify-backups/dr
                  s3: {endpoint: "not a url"}
                """)).contains("repository.s3.endpoint: 'not a url' is not a valid URL");
        assertThat(problems("""
                repository:
                  url: s3://dify-backups/dr
                  s3: {endpoint: "minio.example:9000"}
                """)).contains("repository.s3.endpoint: 'minio.example:9000' must be an http(s) URL");
    }

    @Test
    void s3EndpointIsAccepted() {
        Config c = loader.parse("""
                repository:
                  url: s3://dify-backups/dr
                  s3: {endpoint: "http://127.0.0.1:9000"}
                """, "test.yaml");

        assertThat(c.repository().s3().endpoint()).isEqualTo("http://127.0.0.1:9000");
        assertThat(c.repository().s3().pathStyle()).isTrue();
        assertThat(c.repository().s3().checksums()).isEqualTo("when_required");
    }

    @Test
    void ossRepositoryIsAccepted() {
        ConfigLoader withEnv = new ConfigLoader(Map.of("OSS_ID", "LTAIEXAMPLE", "OSS_SECRET", "oss-s3cret", "OSS_TOKEN", "sts-token")::get);

        Config c = withEnv.parse("""
                repository:
                  url: oss://dify-backups/dr
                  oss:
                    endpoint: https://oss-cn-hangzhou.aliyuncs.com
                    region: cn-hangzhou
                    accessKeyId: "${env:OSS_ID}"
                    accessKeySecret: "${env:OSS_SECRET}"
                    securityToken: "${env:OSS_TOKEN}"
                """, "test.yaml");

        OssConfig oss = c.repository().oss();
        assertThat(oss.endpoint()).isEqualTo("https://oss-cn-hangzhou.aliyuncs.com");
        assertThat(oss.accessKeySecret().reveal()).isEqualTo("oss-s3cret");
        assertThat(oss.securityToken().reveal()).isEqualTo("sts-token");
        assertThat(oss.partSizeMiB()).isEqualTo(8);
        assertThat(oss.uploadConcurrency()).isEqualTo(4);
        assertThat(oss.maxAttempts()).isEqualTo(5);
        assertThat(c.toString()).doesNotContain("oss-s3cret").doesNotContain("sts-token");
    }

    @Test
    void ossSettingsAreValidated() {
        String message = problems("""
                repository:
                  url: oss://dify-backups/dr
                  oss: {endpoint: "ftp://oss-cn-hangzhou.aliyuncs.com", accessKeyId: LTAIEXAMPLE, partSizeMiB: 0, uploadConcurrency: 65, maxAttempts: 21}
                """);

        assertThat(message).contains(
                "repository.oss.endpoint: 'ftp://oss-cn-hangzhou.aliyuncs.com' must be an http(s) URL",
                "repository.oss: accessKeyId and accessKeySecret must be given together",
                "repository.oss.partSizeMiB: 0 is out of range",
                "repository.oss.uploadConcurrency: 65 is out of range",
                "repository.oss.maxAttempts: 21 is out of range");
        assertThat(message.lines().filter(l -> l.startsWith("  - ")).count()).isEqualTo(5);
    }

    @Test
    void retentionIsReadAndValidated() {
        Config c = new ConfigLoader().parse("""
                repository: {url: file:///tmp/r}
                retention: {keepLast: 3, keepDaily: 7, keepWithin: 1y2m, minKeep: 2, timeZone: Europe/Berlin, gracePeriod: 90m}
                """, "test.yaml");
        assertThat(c.retention()).isEqualTo(new RetentionConfig(3, null, 7, null, null, null, "1y2m", 2, "Europe/Berlin", "90m"));
        assertThat(new ConfigLoader().parse("repository: {url: file:///tmp/r}\n", "test.yaml").retention()).isEqualTo(RetentionConfig.NONE);

        assertThat(problems("""
                repository: {url: file:///tmp/r}
                retention: {keepHourly: many, keepDialy: 3}
                """)).contains("retention.keepDialy: unknown key; did you mean 'keepDaily'?", "retention.keepHourly: expected a whole number");
        assertThat(problems("""
                repository: {url: file:///tmp/r}
                retention: {keepDaily: -3, keepWithin: 7days, timeZone: Nowhere/Town, gracePeriod: 1w}
                """)).contains(
                "retention.keepDaily: -3 must be a count, 0 (no rule) or -1 (unlimited)",
                "retention.keepWithin: '7days' is not a duration like 1y2m3d4h",
                "retention.timeZone: 'Nowhere/Town' is not a time zone",
                "retention.gracePeriod: '1w' is not a duration like 24h, 90m or 7d");
    }

    @Test
    void ossNeedsABucketAnEndpointAndKeysForAToken() {
        assertThat(problems("repository: {url: 'oss:///dr', oss: {endpoint: 'https://oss-cn-hangzhou.aliyuncs.com'}}\n"))
                .contains("repository.url: 'oss:///dr' must name a bucket like oss://bucket/prefix");
        assertThat(problems("repository: {url: 'oss://dify-backups/dr'}\n"))
                .contains("repository.oss.endpoint: missing required key");
        assertThat(problems("repository: {url: 'oss://dify-backups/dr', oss: {endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', securityToken: t}}\n"))
                .contains("repository.oss.securityToken: only used with accessKeyId and accessKeySecret");
        assertThat(problems("repository: {url: 'oss://dify-backups/dr', oss: {endpoint: 'oss-cn-hangzhou.aliyuncs.com'}}\n"))
                .contains("repository.oss.endpoint: 'oss-cn-hangzhou.aliyuncs.com' must be an http(s) URL");
    }

    @Test
    void ossStsEndpointIsAHostReachedOverHttps() {
        Config c = new ConfigLoader().parse("""
                repository:
                  url: oss://dify-backups/dr
                  oss: {endpoint: "https://oss-cn-hangzhou-internal.aliyuncs.com", stsEndpoint: "https://sts-vpc.cn-hangzhou.aliyuncs.com/"}
                """, "test.yaml");
        assertThat(c.repository().oss().stsHost()).isEqualTo("sts-vpc.cn-hangzhou.aliyuncs.com");
        assertThat(new OssConfig(null, null, null, null, null, null, null, null, "127.0.0.1:8443").stsHost()).isEqualTo("127.0.0.1:8443");
        assertThat(OssConfig.DEFAULT.stsHost()).isNull();

        for (String wrong : List.of("http://sts.cn-hangzhou.aliyuncs.com", "sts.aliyuncs.com/path", "sts.aliyuncs.com:port", "sts.aliyuncs.com:70000")) {
            assertThat(problems("repository: {url: 'oss://dify-backups/dr', oss: {endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', stsEndpoint: '" + wrong + "'}}\n"))
                    .as(wrong)
                    .contains("repository.oss.stsEndpoint: '" + wrong + "' must be an STS host like sts-vpc.cn-hangzhou.aliyuncs.com");
        }
        assertThat(problems("repository: {url: 'oss://dify-backups/dr', oss: {endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', "
                + "accessKeyId: a, accessKeySecret: b, stsEndpoint: sts.aliyuncs.com}}\n"))
                .contains("repository.oss.stsEndpoint: only used for RRSA credentials");
    }

    @Test
    void ossSettingsOnlyWithAnOssUrl() {
        assertThat(problems("repository: {url: 's3://dify-backups/dr', oss: {endpoint: 'https://oss-cn-hangzhou.aliyuncs.com'}}\n"))
                .contains("repository.oss: only used with an oss:// repository.url");
        assertThat(problems("repository: {url: 'file:///var/backups/dify', oss: {endpoint: 'https://oss-cn-hangzhou.aliyuncs.com'}}\n"))
                .contains("repository.oss: only used with an oss:// repository.url");
    }

    @Test
    void envReferencesAreResolvedFromTheGivenEnvironment() {
        ConfigLoader withEnv = new ConfigLoader(Map.of("AWS_KEY", "AKIAEXAMPLE", "AWS_SECRET", "s3cr3t/with$dollar", "PGHOST", "db.internal")::get);

        Config c = withEnv.parse("""
                repository:
                  url: s3://dify-backups/dr
                  s3: {accessKeyId: "${env:AWS_KEY}", secretAccessKey: "${env:AWS_SECRET}"}
                postgres:
                  host: "${env:PGHOST}"
                """, "test.yaml");

        assertThat(c.repository().s3().accessKeyId().reveal()).isEqualTo("AKIAEXAMPLE");
        assertThat(c.repository().s3().secretAccessKey().reveal()).isEqualTo("s3cr3t/with$dollar");
        assertThat(c.postgres().host()).isEqualTo("db.internal");
    }

    @Test
    void missingEnvVariableIsNamedWithItsKeyPath() {
        ConfigLoader withEnv = new ConfigLoader(Map.of("AWS_KEY", "AKIAEXAMPLE")::get);

        String message = problems(withEnv, """
                repository:
                  url: s3://dify-backups/dr
                  s3: {accessKeyId: "${env:AWS_KEY}", secretAccessKey: "${env:AWS_SECRET_ACCESS_KEY}"}
                """);

        assertThat(message).contains("repository.s3.secretAccessKey: environment variable AWS_SECRET_ACCESS_KEY is not set");
        assertThat(message).doesNotContain("AKIAEXAMPLE");
    }

    @Test
    void fileReferencesAreResolvedWithoutTheTrailingNewline(@TempDir Path dir) throws Exception {
        Path secret = dir.resolve("pg-password");
        Files.writeString(secret, "pa55 word!\n");

        Config c = loader.parse(MINIMAL + "postgres: {host: db, password: \"${file:" + secret + "}\"}\n", "test.yaml");

        assertThat(c.postgres().password().reveal()).isEqualTo("pa55 word!");
    }

    @Test
    void missingSecretFileIsNamedWithItsKeyPath(@TempDir Path dir) {
        Path secret = dir.resolve("absent");

        assertThat(problems(MINIMAL + "postgres: {host: db, password: \"${file:" + secret + "}\"}\n"))
                .contains("postgres.password: cannot read secret file " + secret);
    }

    @Test
    void loadReadsTheFileAndNamesItInProblems(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("dify-dr.yaml");
        Files.writeString(file, MINIMAL + "deployment: prod\n");
        assertThat(loader.load(file).deployment()).isEqualTo("prod");

        Files.writeString(file, "postgres: {host: db}\n");
        DrException e = catchThrowableOfType(DrException.class, () -> loader.load(file));
        assertThat(e.getMessage()).startsWith("invalid configuration in " + file).contains("repository.url");

        DrException missing = catchThrowableOfType(DrException.class, () -> loader.load(dir.resolve("nope.yaml")));
        assertThat(missing.failure()).isEqualTo(Failure.CONFIG);
        assertThat(missing.getMessage()).contains("nope.yaml not found");
    }

    @Test
    void severalProblemsAreReportedInOneMessage() {
        String message = problems("""
                deployment: "prod/east"
                repository:
                  url: s3://dify-backups/dr
                  s3: {endpoint: "ftp://minio.example", partSizeMiB: 1}
                postgres:
                  host: db
                  port: 70000
                  databases: []
                compression: {level: 25}
                """);

        assertThat(message).contains(
                "deployment: 'prod/east'",
                "repository.s3.endpoint: 'ftp://minio.example' must be an http(s) URL",
                "repository.s3.partSizeMiB: 1 is out of range",
                "postgres.port: port 70000 is out of range",
                "postgres.databases: the list is empty",
                "compression.level: 25 is out of range");
        assertThat(message.lines().filter(l -> l.startsWith("  - ")).count()).isEqualTo(6);
    }

    @Test
    void secretsAreMaskedInToStringAndJson() throws Exception {
        ConfigLoader withEnv = new ConfigLoader(Map.of("PGPW", "hunter2-pg", "AWS_SECRET", "hunter2-aws")::get);
        Config c = withEnv.parse("""
                repository:
                  url: s3://dify-backups/dr
                  s3: {accessKeyId: AKIAEXAMPLE, secretAccessKey: "${env:AWS_SECRET}"}
                postgres:
                  host: db
                  password: "${env:PGPW}"
                """, "test.yaml");

        assertThat(c.postgres().password().reveal()).isEqualTo("hunter2-pg");
        assertThat(c.postgres().password()).hasToString(Secret.MASK);
        assertThat(c.toString()).doesNotContain("hunter2").contains(Secret.MASK);
        String json = Json.MAPPER.writeValueAsString(c);
        assertThat(json).doesNotContain("hunter2").doesNotContain("AKIAEXAMPLE").contains(Secret.MASK);
    }

    @Test
    void databasesAsNamesAndAsObjects() {
        Config c = loader.parse(MINIMAL + """
                postgres:
                  host: db
                  databases: [dify, {name: dify_plugin, optional: true}, {name: extra}]
                """, "test.yaml");

        assertThat(c.postgres().databases().list()).containsExactly(
                new DatabaseSpec("dify", false), new DatabaseSpec("dify_plugin", true), new DatabaseSpec("extra", false));
    }

    @Test
    void databasesFromDifyWithAKubernetesSection() {
        Config c = loader.parse(MINIMAL + """
                postgres: {host: db, databases: fromDify}
                kubernetes: {namespace: dify, release: dify}
                """, "test.yaml");

        assertThat(c.postgres().databases().isFromDify()).isTrue();
        assertThat(c.postgres().databases()).isEqualTo(DatabaseSelection.fromDify());
        assertThat(c.postgres().withDatabases(java.util.List.of(new DatabaseSpec("dify_r1", false))).databases().list())
                .containsExactly(new DatabaseSpec("dify_r1", false));
    }

    @Test
    void databasesFromDifyWithoutKubernetesIsRefused() {
        assertThat(problems(MINIMAL + "postgres: {host: db, databases: fromDify}\n"))
                .contains("postgres.databases: fromDify reads the databases from Dify's Deployments and needs the kubernetes section")
                .contains("without Kubernetes, list the databases (e.g. [dify, dify_plugin])");
    }

    @Test
    void databasesAsAnyOtherWordOrAMappingIsRefusedPrecisely() {
        String kubernetes = "kubernetes: {namespace: dify, release: dify}\n";
        assertThat(problems(MINIMAL + kubernetes + "postgres: {host: db, databases: fromdify}\n"))
                .contains("postgres.databases: 'fromdify' is not a known value; did you mean 'fromDify'?");
        assertThat(problems(MINIMAL + kubernetes + "postgres: {host: db, databases: dify}\n"))
                .contains("postgres.databases: 'dify' must be fromDify (the databases Dify's Deployments read) or a list of databases;"
                        + " for one database write [dify]");
        assertThat(problems(MINIMAL + kubernetes + "postgres: {host: db, databases: 5}\n"))
                .contains("postgres.databases: '5' must be fromDify");
        assertThat(problems(MINIMAL + kubernetes + "postgres: {host: db, databases: {name: dify}}\n"))
                .contains("postgres.databases: expected fromDify or a list of databases (e.g. [dify, dify_plugin])");
        assertThat(problems(MINIMAL + kubernetes + "postgres: {host: db, databases: []}\n"))
                .contains("postgres.databases: the list is empty; name at least one database (e.g. [dify, dify_plugin]) or write fromDify");
        assertThat(problems(MINIMAL + kubernetes + "postgres: {host: db, databases: [dify, {name: x, optional: maybe}]}\n"))
                .contains("postgres.databases[1].optional: expected true or false");
    }

    @Test
    void databaseObjectWithoutANameIsRefused() {
        assertThat(problems(MINIMAL + "postgres: {host: db, databases: [dify, {optional: true}]}\n"))
                .contains("postgres.databases[1]: missing database name");
    }

    @Test
    void databaseObjectWithAMisspelledKey() {
        assertThat(problems(MINIMAL + "postgres: {host: db, databases: [{name: dify, optinal: true}]}\n"))
                .contains("postgres.databases[0].optinal: unknown key; did you mean 'optional'?");
    }

    @Test
    void physicalModeDefaultsToFetchAndFastCheckpoint() {
        Config c = loader.parse(MINIMAL + "postgres: {host: db, mode: physical}\n", "test.yaml");

        assertThat(c.postgres().isPhysical()).isTrue();
        assertThat(c.postgres().physical()).isEqualTo(new PostgresConfig.Physical("fetch", "fast"));
    }

    @Test
    void physicalModeWithSpreadCheckpoint() {
        Config c = loader.parse(MINIMAL + "postgres: {host: db, mode: physical, physical: {checkpoint: spread}}\n", "test.yaml");

        assertThat(c.postgres().physical().checkpoint()).isEqualTo("spread");
        assertThat(c.postgres().physical().wal()).isEqualTo("fetch");
    }

    @Test
    void physicalSettingsAreValidated() {
        String p = problems(MINIMAL + "postgres: {host: db, mode: phsyical, physical: {wal: stream, checkpoint: slow, wall: x}}\n");

        assertThat(p).contains("postgres.mode: 'phsyical' must be logical")
                .contains("postgres.physical.wal: 'stream' is not supported by this version; use 'fetch'")
                .contains("postgres.physical.checkpoint: 'slow' must be fast or spread")
                .contains("postgres.physical.wall: unknown key; did you mean 'wal'?");
        assertThat(problems(MINIMAL + "postgres: {host: db, mode: physical, physical: {wal: none}}\n"))
                .contains("postgres.physical.wal: 'none' must be fetch");
    }

    @Test
    void storageSectionsAreValidated() {
        String p = problems(MINIMAL + """
                storage:
                  - {name: app, path: /srv/dify/storage}
                  - {name: app, path: /srv/other}
                  - {name: Plugins, path: /srv/plugins}
                  - {name: both, path: /a, pod: {selector: app=api, path: /app/api/storage}}
                  - {name: neither}
                  - {name: podless, pod: {path: relative}}
                  - {name: ftp, bucket: {url: 'ftp://host/x'}}
                  - {name: nobucket, bucket: {url: 's3:///prefix'}}
                  - {name: mixed, bucket: {url: 's3://b/p', oss: {endpoint: 'https://oss-cn-hangzhou.aliyuncs.com'}}}
                  - {name: rel, path: storage}
                """);
        assertThat(p).contains("storage[1].name: 'app' is used by another storage")
                .contains("storage[2].name: 'Plugins' must be lower-case letters")
                .contains("storage[3]: give exactly one of path, pod or bucket (found 2)")
                .contains("storage[4]: give exactly one of path, pod or bucket (found 0)")
                .contains("storage[5].pod.selector: missing label selector")
                .contains("storage[5].pod.path: missing or not absolute")
                .contains("storage[6].bucket.url: 'ftp://host/x' must name a bucket")
                .contains("storage[7].bucket.url: 's3:///prefix' must name a bucket")
                .contains("storage[8].bucket: settings for the other store kind")
                .contains("storage[9].path: 'storage' must be an absolute directory path")
                .doesNotContain("storage[0]");
    }

    @Test
    void storageSectionsOfEveryKindAreAccepted() {
        Config c = loader.parse(MINIMAL + """
                storage:
                  - {name: app, path: /srv/dify/storage}
                  - {name: plugin_daemon, pod: {namespace: dify, selector: 'app.kubernetes.io/component=plugin-daemon', path: /app/storage}}
                  - {name: app-s3, bucket: {url: 's3://dify-files/prod', s3: {endpoint: 'http://minio:9000'}}, optional: true}
                  - {name: app-oss, bucket: {url: 'oss://dify-files/prod'}}
                """, "test.yaml");
        assertThat(c.storage()).hasSize(4);
        assertThat(c.storage().get(0).privkeys()).isTrue();
        assertThat(c.storage().get(1).privkeys()).isFalse();
        assertThat(c.storage().get(2).optional()).isTrue();
    }

    @Test
    void redisAndStorageTargetsOfRestoreAndDrillAreValidated() {
        String p = problems(MINIMAL + """
                restore:
                  redis: {port: 70000}
                  storage: [{name: app}]
                drill:
                  redis: {host: scratch-redis, mode: fast}
                  storage: [{name: app, bucket: {url: 's3://scratch/app'}}]
                """);

        assertThat(p).contains("restore.redis.host: missing required key")
                .contains("restore.redis.port: port 70000 is out of range")
                .contains("restore.storage[0]: give exactly one of path, pod or bucket (found 0)")
                .contains("drill.redis.mode: 'fast' must be auto, rdb or logical")
                .contains("drill.storage[0]: a drill restores into a scratch directory: give path");
    }

    @Test
    void scheduleAndMetricsSections() {
        Config c = loader.parse(MINIMAL, "test.yaml");
        assertThat(c.schedule().jobStore()).isEqualTo("ram");
        assertThat(c.schedule().grace()).isEqualTo(java.time.Duration.ofMinutes(10));
        assertThat(c.metrics().port()).isNull();

        ConfigLoader withSecret = new ConfigLoader(Map.of("QRTZ_PW", "s3cret")::get);
        Config jdbc = withSecret.parse(MINIMAL + """
                schedule: {jobStore: jdbc, gracePeriod: 1h30m, jdbc: {host: db, database: dify_dr, password: "${env:QRTZ_PW}"}}
                metrics: {port: 9464, pushgateway: "http://pushgateway:9091"}
                """, "test.yaml");
        assertThat(jdbc.schedule().clustered()).isTrue();
        assertThat(jdbc.schedule().grace()).isEqualTo(java.time.Duration.ofMinutes(90));
        assertThat(jdbc.schedule().jdbc().port()).isEqualTo(5432);
        assertThat(jdbc.schedule().jdbc().password().reveal()).isEqualTo("s3cret");
        assertThat(jdbc.schedule().jdbc().toString()).doesNotContain("s3cret");

        assertThat(problems(MINIMAL + """
                schedule: {jobStore: jdbcc, gracePeriod: soon, jdbc: {port: 0, sslmode: maybe, passwd: x}}
                metrics: {port: 70000, pushgateway: "pushgateway:9091"}
                """)).isEqualTo("""
                invalid configuration in test.yaml:
                  - schedule.jdbc.passwd: unknown key; did you mean 'password'? (known keys here: host, port, database, user, password, sslmode)
                  - schedule.jobStore: 'jdbcc' must be ram (one scheduler) or jdbc (a clustered JobStore in PostgreSQL); did you mean 'jdbc'?
                  - schedule.gracePeriod: 'soon' must be a duration (e.g. 0, 45s, 10m, 1h30m, 7d)
                  - schedule.jdbc: only used with schedule.jobStore: jdbc
                  - schedule.jdbc.host: missing required key
                  - schedule.jdbc.database: missing required key (the database that holds Quartz's QRTZ_ tables, e.g. dify_dr)
                  - schedule.jdbc.port: port 0 is out of range 1-65535
                  - schedule.jdbc.sslmode: 'maybe' is not a libpq sslmode (disable, allow, prefer, require, verify-ca, verify-full)
                  - metrics.port: port 70000 is out of range 1-65535
                  - metrics.pushgateway: 'pushgateway:9091' must be an http(s) URL like http://pushgateway.monitoring.svc:9091""");
        assertThat(problems(MINIMAL + "schedule: {jobStore: jdbc}\n"))
                .contains("schedule.jdbc: missing; jobStore jdbc needs the PostgreSQL database of the JobStore (host, database, user, password)");
    }
}
