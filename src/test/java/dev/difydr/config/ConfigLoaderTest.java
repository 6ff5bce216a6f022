package dev.difydr.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.repository.Json;
import java.nio.file.Files;
import java.nio.file.Path;
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
    }

    @Test
    void restoreSectionsAreValidated() {
        String p = problems(MINIMAL + """
                kubernetes: {namespace: dify, workloads: [{name: dify-api, role: apii}], pollSeconds: 0}
                smoke: {api: "dify-api:5001"}
                restore: {jobs: 0, target: {port: 70000}}
                drill: {maxRtoSeconds: -1}
                """);

        assertThat(p).contains("kubernetes.workloads[0].role: 'apii' must be one of [api, worker, beat, plugin-daemon, web, sandbox, other]")
                .contains("kubernetes: scaleDownTimeoutSeconds, rolloutTimeoutSeconds and pollSeconds must be positive")
                .contains("smoke.api: 'dify-api:5001' must be an http(s) URL")
                .contains("restore.jobs: 0 is out of range")
                .contains("restore.target.port: port 70000 is out of range")
                .contains("drill.maxRtoSeconds: -1 must be a positive number of seconds");
        assertThat(problems(MINIMAL + "kubernetes: {namespace: dify}\n")).contains("name the Helm release (kubernetes.release) or list the Deployments");
        assertThat(problems(MINIMAL + "smoke: {api: 'http://a:5001', appKey: k, appKeySecret: {name: s}}\n"
                + "drill: {smoke: {api: 'http://b:5001', appKeySecret: {name: s, key: k}}}\n"))
                .contains("smoke: give the app key either as appKey or as appKeySecret, not both")
                .contains("smoke.appKeySecret: needs both name and key of the Secret")
                .contains("drill.smoke.appKeySecret: the drill does not read Kubernetes");
    }

    @Test
    void minimalConfigurationGetsDefaults() {
        Config c = loader.parse(MINIMAL + "postgres: {host: db}\n", "test.yaml");

        assertThat(c.deployment()).isEqualTo("dify");
        assertThat(c.repository().url()).isEqualTo("file:///var/backups/dify");
        assertThat(c.postgres().port()).isEqualTo(5432);
        assertThat(c.postgres().user()).isEqualTo("postgres");
        assertThat(c.postgres().databases()).containsExactly(new DatabaseSpec("dify", false), new DatabaseSpec("dify_plugin", true));
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

        assertThat(c.postgres().databases()).containsExactly(
                new DatabaseSpec("dify", false), new DatabaseSpec("dify_plugin", true), new DatabaseSpec("extra", false));
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
}
