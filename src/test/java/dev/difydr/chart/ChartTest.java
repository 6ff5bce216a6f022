package dev.difydr.chart;

import static dev.difydr.chart.HelmChart.all;
import static dev.difydr.chart.HelmChart.objects;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import dev.difydr.config.Durations;
import dev.difydr.kube.Permissions;
import dev.difydr.testsupport.Rbac;
import dev.difydr.schedule.Schedule;
import dev.difydr.schedule.ScheduleLoader;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.Adler32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart rendered by Helm's engine over several value sets, each read back as Kubernetes objects: one CronJob per
 * schedule running exactly what {@code dify-dr schedule} would run, the Role of {@link Permissions#RULES}, restricted
 * pods, daemon and fleet modes, and the values schema.
 */
class ChartTest {
    static final String IMAGE = "image: {repository: registry.example.com/dify-dr, tag: 0.1.0}\n";
    static final String CONFIG = """
            config:
              deployment: prod
              repository: {url: "s3://dify-backups/dr", s3: {region: eu-central-1}}
              postgres: {host: dify-postgresql.dify.svc, user: postgres, password: "${file:/var/run/secrets/dify-dr/pg-password}"}
              redis: {host: dify-redis-master.dify.svc, password: "${file:/var/run/secrets/dify-dr/redis-password}"}
              storage:
                - {name: app, bucket: {url: "s3://dify-files/prod"}}
              kubernetes: {namespace: dify, release: dify}
              drill: {maxRpoSeconds: 93600}
            secretMounts: [{name: dify-dr-secrets, mountPath: /var/run/secrets/dify-dr}]
            """;

    @TempDir
    Path temp;

    /** The minimal values with more keys of the configuration (lines indented by two spaces). */
    private static String withConfig(String configLines) {
        return IMAGE + CONFIG.replace("secretMounts:", configLines + "secretMounts:");
    }

    private List<HasMetadata> render(String values) {
        return objects(HelmChart.template(values, temp));
    }

    private static List<Schedule> shippedSchedules() {
        return new ScheduleLoader().load(Path.of("schedules"));
    }

    @Test
    void lintIsCleanInStrictMode() {
        LintResult lint = new Helm(HelmChart.DIR).lint().strict().call();
        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    }

    @Test
    void minimalRendersOneCronJobPerShippedScheduleRunningWhatTheSchedulerWouldRun() {
        List<HasMetadata> objects = render(IMAGE + CONFIG);
        List<CronJob> cronJobs = scheduleCronJobs(objects);
        List<Schedule> schedules = shippedSchedules();
        assertThat(cronJobs).hasSize(schedules.size());
        for (Schedule s : schedules) {
            CronJob cj = cronJobOf(cronJobs, s.name());
            assertThat(cj.getMetadata().getName()).isEqualTo("dify-dr-" + s.name());
            assertThat(cj.getMetadata().getNamespace()).isEqualTo(HelmChart.NAMESPACE);
            assertThat(cj.getSpec().getSchedule()).isEqualTo(s.cron().cron());
            assertThat(cj.getSpec().getTimeZone()).isEqualTo(s.zone().getId());
            assertThat(cj.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
            assertThat(cj.getSpec().getSuspend()).isFalse();
            assertThat(cj.getSpec().getSuccessfulJobsHistoryLimit()).isEqualTo(3);
            assertThat(cj.getSpec().getFailedJobsHistoryLimit()).isEqualTo(3);
            assertThat(cj.getSpec().getStartingDeadlineSeconds()).isEqualTo(s.misfire().word().equals("skip") ? 120L : 21600L);
            assertThat(cj.getSpec().getJobTemplate().getSpec().getBackoffLimit()).isZero();
            long lockWait = lockWaitSeconds(s);
            assertThat(cj.getSpec().getJobTemplate().getSpec().getActiveDeadlineSeconds()).isGreaterThan(lockWait);
            PodSpec pod = cj.getSpec().getJobTemplate().getSpec().getTemplate().getSpec();
            assertThat(pod.getRestartPolicy()).isEqualTo("Never");
            assertThat(container(pod).getArgs()).as(s.name()).isEqualTo(s.arguments());
            assertThat(container(pod).getCommand()).as("the image's entrypoint runs dify-dr").isEmpty();
            assertThat(container(pod).getImage()).isEqualTo("registry.example.com/dify-dr:0.1.0");
            // the run's metrics are labelled with its schedule, and pushed into its schedule's group
            assertThat(env(container(pod), "DIFY_DR_SCHEDULE")).as(s.name()).isEqualTo(s.name());
            assertThat(envNames(container(pod))).as("only dify-dr schedule's children do not push").doesNotContain("DIFY_DR_SCHEDULER");
        }
        // the drill is one of them, quarterly
        CronJob drill = cronJobOf(cronJobs, "quarterly-drill");
        assertThat(drill.getSpec().getSchedule()).isEqualTo("0 6 1 1,4,7,10 *");
        assertThat(container(podOf(drill)).getArgs()).containsExactly("drill", "latest", "--read-data", "--lock-wait", "1h");
        assertThat(tmpVolume(podOf(drill)).getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("20Gi"));
        assertThat(tmpVolume(podOf(cronJobOf(cronJobs, "nightly-backup"))).getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("1Gi"));
        assertRestricted(objects);
        assertNothingClusterWide(objects);
    }

    @Test
    void theConfigurationIsASecretMountedWhereDifyDrConfigPoints() {
        List<HasMetadata> objects = render(IMAGE + CONFIG);
        Secret secret = one(all(objects, Secret.class), "dify-dr-config");
        Map<String, Object> config = HelmChart.map(secret.getStringData().get("config.yaml"));
        assertThat(config).containsEntry("deployment", "prod");
        assertThat(config.get("postgres")).isEqualTo(Map.of("host", "dify-postgresql.dify.svc", "user", "postgres",
                "password", "${file:/var/run/secrets/dify-dr/pg-password}"));
        assertThat(config.get("drill")).isEqualTo(Map.of("maxRpoSeconds", 93600));
        for (PodSpec pod : podSpecs(objects)) {
            Container c = container(pod);
            assertThat(env(c, "DIFY_DR_CONFIG")).isEqualTo("/etc/dify-dr/config.yaml");
            assertThat(mount(c, "/etc/dify-dr").getName()).isEqualTo("config");
            assertThat(volume(pod, "config").getSecret().getSecretName()).isEqualTo("dify-dr-config");
            assertThat(mount(c, "/var/run/secrets/dify-dr").getReadOnly()).isTrue();
            assertThat(volume(pod, mount(c, "/var/run/secrets/dify-dr").getName()).getSecret().getSecretName()).isEqualTo("dify-dr-secrets");
        }
    }

    @Test
    void anExistingConfigSecretIsMountedInsteadOfOneOfTheCharts() {
        List<HasMetadata> objects = render(IMAGE + "existingConfigSecret: my-dify-dr-config\ndifyNamespace: dify\n");
        assertThat(all(objects, Secret.class)).isEmpty();
        for (PodSpec pod : podSpecs(objects)) {
            assertThat(volume(pod, "config").getSecret().getSecretName()).isEqualTo("my-dify-dr-config");
        }
        assertThat(one(all(objects, Role.class), "dify-dr").getMetadata().getNamespace()).isEqualTo("dify");
    }

    @Test
    void theRestoreTemplateIsASuspendedCronJobThatPlansByDefault() {
        List<HasMetadata> objects = render(IMAGE + CONFIG);
        CronJob restore = one(all(objects, CronJob.class), "dify-dr-restore");
        assertThat(restore.getSpec().getSuspend()).isTrue();
        assertThat(restore.getSpec().getJobTemplate().getSpec().getBackoffLimit()).isZero();
        assertThat(restore.getSpec().getJobTemplate().getSpec().getActiveDeadlineSeconds()).isNull();
        PodSpec pod = podOf(restore);
        assertThat(pod.getRestartPolicy()).isEqualTo("Never");
        assertThat(pod.getServiceAccountName()).isEqualTo("dify-dr");
        assertThat(container(pod).getArgs()).containsExactly("restore", "latest", "--plan");
        assertThat(envNames(container(pod))).as("a restore is not a schedule's run").doesNotContain("DIFY_DR_SCHEDULE");
        assertThat(tmpVolume(pod).getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("20Gi"));

        CronJob other = one(all(render(IMAGE + CONFIG + "restore: {args: [restore, 20261122T060000Z-k3m9qa, --yes]}\n"), CronJob.class), "dify-dr-restore");
        assertThat(container(podOf(other)).getArgs()).containsExactly("restore", "20261122T060000Z-k3m9qa", "--yes");
    }

    @Test
    void theRoleHoldsExactlyPermissionsRulesInDifysNamespaceWithoutPodExecUnlessAStorageIsAPod() {
        List<HasMetadata> objects = render(IMAGE + CONFIG);
        Role role = one(all(objects, Role.class), "dify-dr");
        assertThat(role.getMetadata().getNamespace()).isEqualTo("dify");
        assertThat(role.getRules()).isEqualTo(expectedRules(false));
        assertThat(role.getRules()).anyMatch(r -> r.getResources().equals(List.of("horizontalpodautoscalers")));
        RoleBinding binding = one(all(objects, RoleBinding.class), "dify-dr");
        assertThat(binding.getMetadata().getNamespace()).isEqualTo("dify");
        assertThat(binding.getRoleRef().getName()).isEqualTo("dify-dr");
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo("dify-dr");
            assertThat(s.getNamespace()).isEqualTo(HelmChart.NAMESPACE);
        });

        String podStorage = IMAGE + CONFIG.replace("- {name: app, bucket: {url: \"s3://dify-files/prod\"}}",
                "- {name: app, bucket: {url: \"s3://dify-files/prod\"}}\n    - {name: plugins, pod: {namespace: dify, selector: app=plugin, path: /app/storage}}");
        assertThat(one(all(render(podStorage), Role.class), "dify-dr").getRules()).isEqualTo(expectedRules(true));
        String restoreIntoPod = withConfig("  restore: {storage: [{name: app, pod: {selector: app=api, path: /app/api/storage}}]}\n");
        assertThat(one(all(render(restoreIntoPod), Role.class), "dify-dr").getRules())
                .isEqualTo(expectedRules(true));
        assertThat(one(all(render(IMAGE + CONFIG + "rbac: {podExec: true}\n"), Role.class), "dify-dr").getRules()).isEqualTo(expectedRules(true));
    }

    @Test
    void drillNamespaceGetsARoleToReCreateAndDeleteConfigurationAndDifysNamespaceNeverDeletesIt() {
        List<HasMetadata> objects = render(IMAGE + CONFIG.replace("drill: {maxRpoSeconds: 93600}", "drill: {maxRpoSeconds: 93600, namespace: dify-drill}"));
        assertThat(all(objects, Role.class)).extracting(r -> r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrder("dify/dify-dr", "dify-drill/dify-dr-drill");
        assertThat(one(all(objects, Role.class), "dify-dr-drill").getRules()).isEqualTo(Rbac.policyRules(Permissions.DRILL_RULES));
        assertThat(one(all(objects, RoleBinding.class), "dify-dr-drill").getMetadata().getNamespace()).isEqualTo("dify-drill");
        assertThat(one(all(objects, Role.class), "dify-dr").getRules()).noneMatch(r -> r.getVerbs().contains("delete")
                && (r.getResources().contains("secrets") || r.getResources().contains("configmaps")));

        assertThat(all(render(IMAGE + CONFIG), Role.class)).extracting(r -> r.getMetadata().getName()).containsExactly("dify-dr");
        String existing = IMAGE + "existingConfigSecret: my-config\nrbac: {drillNamespace: scratch}\n";
        assertThat(one(all(render(existing), Role.class), "dify-dr-drill").getMetadata().getNamespace()).isEqualTo("scratch");
    }

    @Test
    void aKubernetesSectionWithoutANamespaceMeansDifysDefaultNotTheReleasesNamespace() {
        String values = IMAGE + "config: {repository: {url: \"file:///var/backups/dify\"}, kubernetes: {release: dify}}\n";
        assertThat(one(all(render(values), Role.class), "dify-dr").getMetadata().getNamespace()).isEqualTo("dify");
    }

    @Test
    void aPodStorageInAnotherNamespaceGetsARoleThereWithOnlyThePodRules() {
        String values = IMAGE + CONFIG.replace("- {name: app, bucket: {url: \"s3://dify-files/prod\"}}",
                "- {name: app, bucket: {url: \"s3://dify-files/prod\"}}\n    - {name: plugins, pod: {namespace: files, selector: app=plugin, path: /app/storage}}");
        List<HasMetadata> objects = render(values);
        assertThat(all(objects, Role.class)).extracting(r -> r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrder("dify/dify-dr", "files/dify-dr-pod-storage");
        Role files = one(all(objects, Role.class), "dify-dr-pod-storage");
        assertThat(files.getRules()).isEqualTo(podStorageRules());
        assertThat(files.getRules()).extracting(PolicyRule::getResources)
                .containsExactlyInAnyOrder(List.of("pods"), List.of("pods"), List.of("pods/exec"));
        // no pod storage in Dify's namespace: no pods/exec there
        assertThat(one(all(objects, Role.class), "dify-dr").getRules()).isEqualTo(expectedRules(false));
        RoleBinding binding = one(all(objects, RoleBinding.class), "dify-dr-pod-storage");
        assertThat(binding.getMetadata().getNamespace()).isEqualTo("files");
        assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
        assertThat(binding.getRoleRef().getName()).isEqualTo("dify-dr-pod-storage");
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo("dify-dr");
            assertThat(s.getNamespace()).isEqualTo(HelmChart.NAMESPACE);
        });
        assertNothingClusterWide(objects);

        // one Role per namespace, however many storages are there; restore.storage counts; rbac.create: false, none
        String several = withConfig("""
                  restore:
                    storage:
                      - {name: plugins, pod: {namespace: files, selector: app=plugin-restore, path: /app/storage}}
                      - {name: app, pod: {namespace: uploads, selector: app=api, path: /app/api/storage}}
                """).replace("- {name: app, bucket: {url: \"s3://dify-files/prod\"}}",
                "- {name: app, bucket: {url: \"s3://dify-files/prod\"}}\n    - {name: plugins, pod: {namespace: files, selector: app=plugin, path: /app/storage}}");
        List<HasMetadata> many = render(several);
        assertThat(all(many, Role.class)).extracting(r -> r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrder("dify/dify-dr", "files/dify-dr-pod-storage", "uploads/dify-dr-pod-storage");
        assertThat(all(many, RoleBinding.class)).extracting(r -> r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrder("dify/dify-dr", "files/dify-dr-pod-storage", "uploads/dify-dr-pod-storage");
        assertThat(all(render(several + "rbac: {create: false}\n"), Role.class)).isEmpty();
    }

    @Test
    void aPodStorageInDifysNamespaceAddsNoRoleAndOneWithoutNamespaceIsWhereDifyDrLooks() {
        String inDify = IMAGE + CONFIG.replace("- {name: app, bucket: {url: \"s3://dify-files/prod\"}}",
                "- {name: app, pod: {selector: app=api, path: /app/api/storage}}\n    - {name: plugins, pod: {namespace: dify, selector: app=plugin, path: /app/storage}}");
        List<HasMetadata> objects = render(inDify);
        assertThat(all(objects, Role.class)).singleElement().satisfies(r -> {
            assertThat(r.getMetadata().getNamespace()).isEqualTo("dify");
            assertThat(r.getRules()).isEqualTo(expectedRules(true));
        });
        assertThat(all(objects, RoleBinding.class)).hasSize(1);

        // without kubernetes.namespace dify-dr looks for the pod in namespace dify, not in the release's namespace
        String noKubernetes = IMAGE + """
                config:
                  repository: {url: "file:///var/backups/dify"}
                  storage: [{name: app, pod: {selector: app=api, path: /app/api/storage}}]
                """;
        List<HasMetadata> defaulted = render(noKubernetes);
        assertThat(all(defaulted, Role.class)).extracting(r -> r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrder(HelmChart.NAMESPACE + "/dify-dr", "dify/dify-dr-pod-storage");
        assertThat(one(all(defaulted, Role.class), "dify-dr").getRules()).isEqualTo(expectedRules(false));
    }

    @Test
    void aFleetInstallsPodStorageInAnotherNamespaceGetsItsOwnRoleThere() {
        String values = IMAGE + CONFIG + """
                fleet:
                  - name: prod
                    namespace: dify-prod
                    release: dify
                    config: {storage: [{name: app, pod: {selector: app=api, path: /app/api/storage}}]}
                  - name: eu
                    namespace: dify-eu
                    release: dify
                    config: {storage: [{name: app, pod: {namespace: files-eu, selector: app=api, path: /app/api/storage}}]}
                  - name: us
                    namespace: dify-us
                    release: dify
                    config: {storage: [{name: app, pod: {namespace: files-eu, selector: app=api-us, path: /app/api/storage}}]}
                """;
        List<HasMetadata> objects = render(values);
        assertThat(all(objects, Role.class)).extracting(r -> r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrder("dify-prod/dify-dr-prod", "dify-eu/dify-dr-eu", "files-eu/dify-dr-eu-pod-storage",
                        "dify-us/dify-dr-us", "files-eu/dify-dr-us-pod-storage");
        assertThat(one(all(objects, Role.class), "dify-dr-prod").getRules()).isEqualTo(expectedRules(true));
        assertThat(one(all(objects, Role.class), "dify-dr-eu").getRules()).isEqualTo(expectedRules(false));
        assertThat(one(all(objects, Role.class), "dify-dr-eu-pod-storage").getRules()).isEqualTo(podStorageRules());
        assertThat(one(all(objects, RoleBinding.class), "dify-dr-us-pod-storage").getRoleRef().getName()).isEqualTo("dify-dr-us-pod-storage");
        assertThat(one(all(objects, RoleBinding.class), "dify-dr-us-pod-storage").getMetadata().getLabels()).containsEntry("dify-dr/install", "us");
        assertNothingClusterWide(objects);
    }

    @Test
    void difyNamespaceDefaultsToTheReleaseNamespaceAndMustAgreeWithTheConfiguration() {
        String noKubernetes = IMAGE + "config: {repository: {url: \"file:///var/backups/dify\"}}\n";
        assertThat(one(all(render(noKubernetes), Role.class), "dify-dr").getMetadata().getNamespace()).isEqualTo(HelmChart.NAMESPACE);
        assertThat(one(all(render(noKubernetes + "difyNamespace: dify-prod\n"), Role.class), "dify-dr").getMetadata().getNamespace())
                .isEqualTo("dify-prod");
        assertThatThrownBy(() -> render(IMAGE + CONFIG + "difyNamespace: elsewhere\n"))
                .hasMessageContaining("difyNamespace 'elsewhere' differs from config.kubernetes.namespace 'dify'");
    }

    @Test
    void s3WithIrsaAnnotatesTheServiceAccountAndMountsTheKeyset() {
        String values = withConfig("  encryption: {keyset: \"${file:/var/run/secrets/dify-dr-keyset/keyset.json}\"}\n") + """
                serviceAccount:
                  annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/dify-dr"}
                encryption: {existingSecret: dify-dr-keyset, key: prod.json}
                """;
        List<HasMetadata> objects = render(values);
        ServiceAccount sa = one(all(objects, ServiceAccount.class), "dify-dr");
        assertThat(sa.getMetadata().getAnnotations()).containsEntry("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/dify-dr");
        for (PodSpec pod : podSpecs(objects)) {
            Container c = container(pod);
            assertThat(pod.getServiceAccountName()).isEqualTo("dify-dr");
            assertThat(mount(c, "/var/run/secrets/dify-dr-keyset").getReadOnly()).isTrue();
            Volume keyset = volume(pod, mount(c, "/var/run/secrets/dify-dr-keyset").getName());
            assertThat(keyset.getSecret().getSecretName()).isEqualTo("dify-dr-keyset");
            assertThat(keyset.getSecret().getItems()).singleElement().satisfies(i -> {
                assertThat(i.getKey()).isEqualTo("prod.json");
                assertThat(i.getPath()).isEqualTo("keyset.json");
            });
            assertThat(c.getEnvFrom()).isEmpty();
        }
        assertThatThrownBy(() -> render(IMAGE + CONFIG + "encryption: {existingSecret: dify-dr-keyset}\n"))
                .hasMessageContaining("encryption.existingSecret is set but the configuration has no encryption.keyset");
    }

    @Test
    void ossCredentialsComeFromTheRepositorySecret() {
        String values = IMAGE + """
                config:
                  repository: {url: "oss://dify-backups/dr", oss: {endpoint: "https://oss-cn-hangzhou.aliyuncs.com"}}
                  postgres: {host: pg.dify.svc, password: "${env:PGPASSWORD}"}
                  kubernetes: {namespace: dify, release: dify}
                repository: {existingSecret: dify-dr-oss}
                serviceAccount:
                  annotations: {pod-identity.alibabacloud.com/role-name: dify-dr}
                extraEnv:
                  - name: PGPASSWORD
                    valueFrom: {secretKeyRef: {name: dify-pg, key: password}}
                """;
        List<HasMetadata> objects = render(values);
        for (PodSpec pod : podSpecs(objects)) {
            Container c = container(pod);
            assertThat(c.getEnvFrom()).singleElement().satisfies(e -> assertThat(e.getSecretRef().getName()).isEqualTo("dify-dr-oss"));
            assertThat(c.getEnv()).anyMatch(e -> e.getName().equals("PGPASSWORD") && e.getValueFrom().getSecretKeyRef().getName().equals("dify-pg"));
        }
        assertThat(one(all(objects, ServiceAccount.class), "dify-dr").getMetadata().getAnnotations())
                .containsEntry("pod-identity.alibabacloud.com/role-name", "dify-dr");
        assertRestricted(objects);
    }

    @Test
    void givenSchedulesRunWhatTheSchedulerWouldRunAndDisabledOnesAreLeftOut() throws IOException {
        String schedules = """
                schedules:
                  - {name: six-hourly, cron: "0 */6 * * *", timeZone: Asia/Shanghai, job: backup, components: [postgres, storage], lockWait: 30m}
                  - {name: prune-hard, cron: "45 3 * * *", job: prune, lockWait: 1h30m,
                     retention: {keepLast: 3, keepDaily: 14, keepWeekly: 8, keepYearly: -1, keepWithin: 2d, minKeep: 2}}
                  - {name: strict-drill, cron: "@monthly", job: drill, strict: true, readData: false, misfire: skip}
                  - {name: quick-verify, cron: "0 12 * * MON-FRI", job: verify}
                  - {name: switched-off, cron: "0 1 * * *", job: backup, enabled: false}
                """;
        List<CronJob> cronJobs = scheduleCronJobs(render(IMAGE + CONFIG + schedules));
        List<Schedule> loaded = loadFromValues(schedules);
        assertThat(loaded).hasSize(5);
        assertThat(cronJobs).extracting(c -> c.getMetadata().getName())
                .containsExactlyInAnyOrder("dify-dr-six-hourly", "dify-dr-prune-hard", "dify-dr-strict-drill", "dify-dr-quick-verify");
        for (Schedule s : loaded.stream().filter(Schedule::enabled).toList()) {
            CronJob cj = cronJobOf(cronJobs, s.name());
            assertThat(container(podOf(cj)).getArgs()).as(s.name()).isEqualTo(s.arguments());
            assertThat(env(container(podOf(cj)), "DIFY_DR_SCHEDULE")).isEqualTo(s.name());
            assertThat(cj.getSpec().getTimeZone()).isEqualTo(s.zone().getId());
            assertThat(cj.getSpec().getSchedule()).isEqualTo(s.cron().cron());
        }
        assertThat(container(podOf(cronJobOf(cronJobs, "prune-hard"))).getArgs()).containsExactly("prune", "--yes", "--keep-last", "3",
                "--keep-daily", "14", "--keep-weekly", "8", "--keep-yearly", "-1", "--keep-within", "2d", "--min-keep", "2", "--lock-wait", "1h30m");
        assertThat(cronJobOf(cronJobs, "strict-drill").getSpec().getStartingDeadlineSeconds()).isEqualTo(120L);
    }

    @Test
    void aRunThatWouldBeStoppedWhileWaitingForTheLockIsRefused() {
        String values = IMAGE + CONFIG + "schedules: [{name: slow-prune, cron: \"0 4 * * *\", job: prune, lockWait: 5h}]\n";
        assertThatThrownBy(() -> render(values)).hasMessageContaining("schedule slow-prune: activeDeadlineSeconds 14400 does not exceed its lockWait 5h");
        List<CronJob> ok = scheduleCronJobs(render(values + "cronJob: {overrides: {slow-prune: {activeDeadlineSeconds: 36000, suspend: true}}}\n"));
        assertThat(ok.get(0).getSpec().getJobTemplate().getSpec().getActiveDeadlineSeconds()).isEqualTo(36000L);
        assertThat(ok.get(0).getSpec().getSuspend()).isTrue();
    }

    @Test
    void daemonModeRunsTheSchedulerInADeploymentInsteadOfCronJobs() throws IOException {
        String values = withConfig("""
                  schedule: {jobStore: jdbc, gracePeriod: 15m, jdbc: {host: dify-postgresql.dify.svc, database: dify_dr}}
                  metrics: {port: 9464}
                """) + "scheduler: {mode: daemon, replicas: 2}\n";
        List<HasMetadata> objects = render(values);
        assertThat(scheduleCronJobs(objects)).isEmpty();
        assertThat(all(objects, CronJob.class)).extracting(c -> c.getMetadata().getName()).containsExactly("dify-dr-restore");
        Deployment scheduler = one(all(objects, Deployment.class), "dify-dr-scheduler");
        assertThat(scheduler.getSpec().getReplicas()).isEqualTo(2);
        assertThat(scheduler.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
        PodSpec pod = scheduler.getSpec().getTemplate().getSpec();
        assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(15 * 60 + 180L);
        Container c = container(pod);
        assertThat(c.getArgs()).containsExactly("schedule", "--schedules", "/etc/dify-dr-schedules");
        assertThat(envNames(c)).as("the scheduler names each child's schedule itself").doesNotContain("DIFY_DR_SCHEDULE");
        assertThat(c.getPorts()).singleElement().satisfies(p -> assertThat(p.getContainerPort()).isEqualTo(9464));
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getResources().getLimits().get("memory")).isEqualTo(new Quantity("1Gi"));
        ConfigMap files = one(all(objects, ConfigMap.class), "dify-dr-schedules");
        assertThat(volume(pod, mount(c, "/etc/dify-dr-schedules").getName()).getConfigMap().getName()).isEqualTo("dify-dr-schedules");
        // the scheduler reads the ConfigMap's files as it reads schedules/: same schedules, same commands
        Path dir = Files.createDirectory(temp.resolve("daemon-schedules"));
        files.getData().forEach((name, text) -> write(dir.resolve(name), text));
        assertThat(new ScheduleLoader().load(dir)).usingRecursiveFieldByFieldElementComparatorIgnoringFields("source", "cron")
                .containsExactlyElementsOf(shippedSchedules());
        assertRestricted(objects);
    }

    @Test
    void daemonModeWithOneReplicaAndTheMemoryStoreIsRecreatedNotRolled() {
        List<HasMetadata> objects = render(IMAGE + CONFIG + "scheduler: {mode: daemon}\n");
        Deployment scheduler = one(all(objects, Deployment.class), "dify-dr-scheduler");
        assertThat(scheduler.getSpec().getReplicas()).isEqualTo(1);
        assertThat(scheduler.getSpec().getStrategy().getType()).isEqualTo("Recreate");
        assertThat(scheduler.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(780L);
        assertThat(container(scheduler.getSpec().getTemplate().getSpec()).getLivenessProbe()).isNull();
    }

    @Test
    void daemonModeWithTwoReplicasAndTheMemoryStoreFailsToRender() {
        assertThatThrownBy(() -> render(IMAGE + CONFIG + "scheduler: {mode: daemon, replicas: 2}\n"))
                .hasMessageContaining("scheduler.replicas is 2 but the configuration keeps its schedules in memory (schedule.jobStore: ram)")
                .hasMessageContaining("Set schedule.jobStore: jdbc");
    }

    @Test
    void aFleetGivesEachInstallItsOwnConfigurationCronJobsRestoreTemplateAndRole() {
        String values = IMAGE + CONFIG + """
                fleet:
                  - {name: prod, namespace: dify-prod, release: dify}
                  - {name: staging, namespace: dify-staging, release: dify-stg, deployment: stg, repositoryPrefix: staging,
                     schedules: [{name: nightly-backup, cron: "0 2 * * *", job: backup}, {name: weekly-verify, cron: "0 5 * * SUN", job: verify, readData: true}]}
                  - name: eu
                    namespace: dify-eu
                    config:
                      repository: {url: "oss://dify-eu/dr", oss: {endpoint: "https://oss-eu-central-1.aliyuncs.com"}}
                      storage: [{name: app, pod: {namespace: dify-eu, selector: app=api, path: /app/api/storage}}]
                """;
        List<HasMetadata> objects = render(values);
        List<CronJob> cronJobs = scheduleCronJobs(objects);
        assertThat(cronJobs).hasSize(5 + 2 + 5);
        Set<String> names = new HashSet<>();
        for (CronJob cj : cronJobs) {
            assertThat(names.add(cj.getMetadata().getName())).as("distinct: " + cj.getMetadata().getName()).isTrue();
            String install = cj.getMetadata().getLabels().get("dify-dr/install");
            String schedule = cj.getMetadata().getLabels().get("dify-dr/schedule");
            assertThat(cj.getMetadata().getName()).contains(install).contains(schedule).isEqualTo("dify-dr-" + install + "-" + schedule);
            assertThat(env(container(podOf(cj)), "DIFY_DR_SCHEDULE")).as("the schedule's name; the install is the deployment label").isEqualTo(schedule);
            assertThat(cj.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
        }
        // fires are spread: every minute value moves by the install's offset, the Adler-32 of its name modulo 30
        for (String install : List.of("prod", "staging", "eu")) {
            int offset = offset(install, 30);
            CronJob nightly = one(cronJobs, "dify-dr-" + install + "-nightly-backup");
            assertThat(nightly.getSpec().getSchedule()).isEqualTo(offset + " 2 * * *");
            assertThat(container(podOf(nightly)).getArgs()).containsExactly("backup");
        }
        assertThat(one(cronJobs, "dify-dr-prod-hourly-redis-backup").getSpec().getSchedule()).isEqualTo(((15 + offset("prod", 30)) % 60) + " * * * *");
        assertThat(Stream.of("prod", "staging", "eu").map(i -> offset(i, 30)).distinct().count()).as("offsets").isGreaterThan(1);

        assertThat(all(objects, Role.class)).extracting(r -> r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrder("dify-prod/dify-dr-prod", "dify-staging/dify-dr-staging", "dify-eu/dify-dr-eu");
        assertThat(one(all(objects, Role.class), "dify-dr-prod").getRules()).isEqualTo(expectedRules(false));
        assertThat(one(all(objects, Role.class), "dify-dr-eu").getRules()).isEqualTo(expectedRules(true));
        assertThat(all(objects, RoleBinding.class)).extracting(r -> r.getMetadata().getNamespace()).containsExactlyInAnyOrder("dify-prod", "dify-staging", "dify-eu");
        assertThat(all(objects, CronJob.class)).extracting(c -> c.getMetadata().getName())
                .contains("dify-dr-prod-restore", "dify-dr-staging-restore", "dify-dr-eu-restore");

        Map<String, Object> prod = config(objects, "dify-dr-prod-config");
        assertThat(prod).containsEntry("deployment", "prod");
        assertThat(prod.get("kubernetes")).isEqualTo(Map.of("namespace", "dify-prod", "release", "dify"));
        assertThat(((Map<?, ?>) prod.get("repository")).get("url")).isEqualTo("s3://dify-backups/dr");
        Map<String, Object> staging = config(objects, "dify-dr-staging-config");
        assertThat(staging).containsEntry("deployment", "stg");
        assertThat(staging.get("kubernetes")).isEqualTo(Map.of("namespace", "dify-staging", "release", "dify-stg"));
        assertThat(((Map<?, ?>) staging.get("repository")).get("url")).isEqualTo("s3://dify-backups/dr/staging");
        Map<String, Object> eu = config(objects, "dify-dr-eu-config");
        assertThat(eu).containsEntry("deployment", "eu");
        assertThat(((Map<?, ?>) eu.get("repository")).get("url")).isEqualTo("oss://dify-eu/dr");
        assertThat(eu.get("postgres")).isEqualTo(prod.get("postgres"));
        for (CronJob cj : all(objects, CronJob.class)) {
            String install = cj.getMetadata().getLabels().get("dify-dr/install");
            assertThat(volume(podOf(cj), "config").getSecret().getSecretName()).isEqualTo("dify-dr-" + install + "-config");
        }
        assertRestricted(objects);
        assertNothingClusterWide(objects);
    }

    @Test
    void aFleetInDaemonModeRunsOneSchedulerPerInstallWithItsFiresSpread() throws IOException {
        String values = IMAGE + CONFIG + """
                scheduler: {mode: daemon}
                fleet: [{name: prod, namespace: dify-prod, release: dify}, {name: staging, namespace: dify-staging, release: dify}]
                """;
        List<HasMetadata> objects = render(values);
        assertThat(all(objects, Deployment.class)).extracting(d -> d.getMetadata().getName())
                .containsExactlyInAnyOrder("dify-dr-prod-scheduler", "dify-dr-staging-scheduler");
        for (String install : List.of("prod", "staging")) {
            Deployment d = one(all(objects, Deployment.class), "dify-dr-" + install + "-scheduler");
            assertThat(volume(d.getSpec().getTemplate().getSpec(), "config").getSecret().getSecretName()).isEqualTo("dify-dr-" + install + "-config");
            ConfigMap files = one(all(objects, ConfigMap.class), "dify-dr-" + install + "-schedules");
            Path dir = Files.createDirectory(temp.resolve(install));
            files.getData().forEach((name, text) -> write(dir.resolve(name), text));
            Schedule nightly = new ScheduleLoader().load(dir).stream().filter(s -> s.name().equals("nightly-backup")).findFirst().orElseThrow();
            assertThat(nightly.cron().cron()).isEqualTo(offset(install, 30) + " 2 * * *");
        }
    }

    @Test
    void theRunbooksValuesRenderAConfigurationDifyDrAccepts() throws IOException {
        String runbook = Files.readString(Path.of("runbooks/kubernetes.md"));
        int start = runbook.indexOf("```yaml\n", runbook.indexOf("**Values**")) + "```yaml\n".length();
        String values = runbook.substring(start, runbook.indexOf("```", start)).stripIndent();
        List<HasMetadata> objects = render(values);
        String text = one(all(objects, Secret.class), "dify-dr-config").getStringData().get("config.yaml");
        Config config = new ConfigLoader(name -> "value-of-" + name).parse(text.replace("${file:", "${env:"), "config.yaml");
        assertThat(config.deployment()).isEqualTo("prod");
        // Helm reads `on:` as the boolean true; the chart puts the notification's key back
        assertThat((List<?>) HelmChart.map(text).get("notifications")).singleElement()
                .satisfies(n -> assertThat(((Map<?, ?>) n).get("on")).isEqualTo(List.of("failure", "drill")));
        assertThat(one(all(objects, Role.class), "dify-dr").getMetadata().getNamespace()).isEqualTo("dify");
        assertThat(scheduleCronJobs(objects)).hasSize(shippedSchedules().size());
        assertRestricted(objects);
    }

    @Test
    void everyFleetInstallsConfigurationIsOneDifyDrAccepts() {
        String values = IMAGE + CONFIG + """
                fleet:
                  - {name: prod, namespace: dify-prod, release: dify}
                  - {name: eu, namespace: dify-eu, deployment: dify-eu, repositoryPrefix: eu, config: {postgres: {host: pg.dify-eu.svc}}}
                """;
        List<HasMetadata> objects = render(values);
        ConfigLoader loader = new ConfigLoader(name -> "value-of-" + name);
        for (Secret secret : all(objects, Secret.class)) {
            Config c = loader.parse(secret.getStringData().get("config.yaml").replace("${file:", "${env:"), secret.getMetadata().getName());
            assertThat(c.kubernetes().namespace()).startsWith("dify-");
        }
        assertThat(all(objects, Secret.class)).hasSize(2);
    }

    @Test
    void aFleetRefusesTwoInstallsOfOneName() {
        assertThatThrownBy(() -> render(IMAGE + CONFIG + "fleet: [{name: a, namespace: ns-1}, {name: a, namespace: ns-2}]\n"))
                .hasMessageContaining("fleet[1].name: 'a' is used twice");
    }

    @Test
    void theValuesSchemaRejectsWhatTheChartCannotRun() {
        assertThatThrownBy(() -> render(IMAGE + CONFIG + "scheduler: {mode: sometimes}\n"))
                .hasMessageContaining("scheduler").hasMessageContaining("mode");
        assertThatThrownBy(() -> render(IMAGE + CONFIG + "schedules: [{name: x, cron: \"0 1 * * *\", job: backup, crn: typo}]\n"))
                .hasMessageContaining("crn");
        assertThatThrownBy(() -> render(IMAGE + CONFIG + "schedules: [{name: Nightly, cron: \"0 1 * * *\", job: backup}]\n"))
                .hasMessageContaining("name");
        assertThatThrownBy(() -> render(IMAGE + CONFIG + "schedules: [{name: x, cron: \"0 1 * * *\", job: restore}]\n"))
                .hasMessageContaining("job");
    }

    @Test
    void everyPodRunsACommandLineDifyDrParsesAndFindsItsConfigurationSecretsAndWritableDirectoriesWhereItLooks() {
        String encrypted = withConfig("""
                  encryption: {keyset: "${file:/var/run/secrets/dify-dr-keyset/keyset.json}", passphrase: "${env:DIFY_DR_KEYSET_PASSPHRASE}"}
                """) + "encryption: {existingSecret: dify-dr-keyset, key: prod.json, passphraseSecret: {name: dify-dr-keyset-passphrase, key: passphrase}}\n";
        String envSecrets = IMAGE + """
                config:
                  repository: {url: "oss://dify-backups/dr", oss: {endpoint: "https://oss-cn-hangzhou.aliyuncs.com"}}
                  postgres: {host: pg.dify.svc, password: "${env:PGPASSWORD}"}
                  redis: {host: redis.dify.svc, password: "${env:REDIS_PASSWORD}"}
                  kubernetes: {namespace: dify, release: dify}
                repository: {existingSecret: dify-dr-oss}
                extraEnv:
                  - {name: PGPASSWORD, valueFrom: {secretKeyRef: {name: dify-pg, key: password}}}
                  - {name: REDIS_PASSWORD, valueFrom: {secretKeyRef: {name: dify-redis, key: password}}}
                """;
        for (String values : List.of(IMAGE + CONFIG, encrypted, envSecrets, IMAGE + CONFIG + "scheduler: {mode: daemon}\n",
                encrypted + "fleet: [{name: prod, namespace: dify-prod, release: dify}, {name: eu, namespace: dify-eu}]\n",
                IMAGE + CONFIG + "restore: {args: [restore, 20261122T060000Z-k3m9qa, --yes, --with, storage]}\n")) {
            assertPodsFindWhatTheyNeed(render(values));
        }
        // the check sees a reference to a file no volume holds, and a variable no one sets
        assertThatThrownBy(() -> assertPodsFindWhatTheyNeed(render(withConfig("  smoke: {appKey: \"${file:/var/run/secrets/dify-smoke/key}\"}\n"))))
                .isInstanceOf(AssertionError.class).hasMessageContaining("/var/run/secrets/dify-smoke/key");
        assertThatThrownBy(() -> assertPodsFindWhatTheyNeed(render(IMAGE + CONFIG.replace("${file:/var/run/secrets/dify-dr/redis-password}", "${env:REDIS_PASSWORD}"))))
                .isInstanceOf(AssertionError.class).hasMessageContaining("REDIS_PASSWORD");
    }

    /**
     * Each pod's container: a command line dify-dr's parser accepts; every mount with its volume and every volume
     * mounted, each path once; {@code DIFY_DR_CONFIG} a key of the configuration Secret mounted at its directory; every
     * {@code ${file:…}} of that configuration a file of a Secret mounted read-only (an item of it, when the volume picks
     * items), every {@code ${env:…}} a variable of the container (or possibly of an envFrom Secret); HOME and
     * XDG_STATE_HOME on a writable emptyDir; the daemon's schedules directory its ConfigMap.
     */
    private static void assertPodsFindWhatTheyNeed(List<HasMetadata> objects) {
        Map<String, Secret> rendered = new java.util.HashMap<>();
        all(objects, Secret.class).forEach(s -> rendered.put(s.getMetadata().getName(), s));
        List<PodSpec> pods = podSpecs(objects);
        assertThat(pods).isNotEmpty();
        for (PodSpec pod : pods) {
            Container c = container(pod);
            String[] args = c.getArgs().toArray(String[]::new);
            assertThat(new picocli.CommandLine(new dev.difydr.cli.Cli()).parseArgs(args).errors()).as(c.getArgs().toString()).isEmpty();
            Set<String> paths = new HashSet<>();
            for (VolumeMount m : c.getVolumeMounts()) {
                volume(pod, m.getName());
                assertThat(paths.add(m.getMountPath())).as("two mounts at " + m.getMountPath()).isTrue();
            }
            for (Volume v : pod.getVolumes()) {
                assertThat(c.getVolumeMounts()).as("volume " + v.getName() + " mounted").anyMatch(m -> m.getName().equals(v.getName()));
            }
            Path configFile = Path.of(env(c, "DIFY_DR_CONFIG"));
            Volume configVolume = volume(pod, mount(c, configFile.getParent().toString()).getName());
            Secret configSecret = rendered.get(configVolume.getSecret().getSecretName());
            assertThat(configSecret).as("the configuration Secret " + configVolume.getSecret().getSecretName()).isNotNull();
            String config = configSecret.getStringData().get(configFile.getFileName().toString());
            assertThat(config).as(configFile + " is a key of " + configSecret.getMetadata().getName()).isNotNull();
            java.util.regex.Matcher ref = java.util.regex.Pattern.compile("\\$\\{(file|env):([^}]+)}").matcher(config);
            while (ref.find()) {
                String target = ref.group(2);
                if (ref.group(1).equals("env")) {
                    assertThat(c.getEnv().stream().anyMatch(e -> e.getName().equals(target)) || !c.getEnvFrom().isEmpty())
                            .as("${env:" + target + "}: set in the container").isTrue();
                    continue;
                }
                VolumeMount holder = mountHolding(c, Path.of(target));
                assertThat(holder).as("${file:" + target + "}: on a mounted volume").isNotNull();
                assertThat(holder.getReadOnly()).as(target + " mounted read-only").isTrue();
                Volume v = volume(pod, holder.getName());
                assertThat(v.getSecret()).as(target + " from a Secret").isNotNull();
                String relative = Path.of(holder.getMountPath()).relativize(Path.of(target)).toString();
                if (v.getSecret().getItems() != null && !v.getSecret().getItems().isEmpty()) {
                    assertThat(v.getSecret().getItems()).as("${file:" + target + "}: an item of " + v.getName())
                            .anyMatch(i -> i.getPath().equals(relative));
                }
            }
            for (String writable : List.of("HOME", "XDG_STATE_HOME")) {
                VolumeMount holder = mountHolding(c, Path.of(env(c, writable)));
                assertThat(holder).as(writable + " on a mounted volume").isNotNull();
                assertThat(holder.getReadOnly()).as(writable + " writable").isNotEqualTo(Boolean.TRUE);
                assertThat(volume(pod, holder.getName()).getEmptyDir()).as(writable + " on an emptyDir").isNotNull();
            }
            int schedules = c.getArgs().indexOf("--schedules");
            if (schedules >= 0) {
                assertThat(volume(pod, mount(c, c.getArgs().get(schedules + 1)).getName()).getConfigMap()).isNotNull();
            }
        }
    }

    /** The mount whose directory holds {@code path} (the deepest one), or null. */
    private static VolumeMount mountHolding(Container c, Path path) {
        return c.getVolumeMounts().stream().filter(m -> path.startsWith(m.getMountPath()))
                .max(java.util.Comparator.comparingInt(m -> m.getMountPath().length())).orElse(null);
    }

    // --- expectations

    private static List<PolicyRule> expectedRules(boolean podExec) {
        return Rbac.policyRules(Permissions.RULES.stream().filter(r -> podExec || !Permissions.POD_STORAGE.contains(r)).toList());
    }

    /** What a pod storage needs in its namespace: the rules of {@link Permissions#RULES} on pods, and pods/exec. */
    private static List<PolicyRule> podStorageRules() {
        return Rbac.policyRules(Permissions.RULES.stream()
                .filter(r -> Permissions.POD_STORAGE.contains(r) || r.group().isEmpty() && r.resource().equals("pods")).toList());
    }

    /** The numeric uid the image's Dockerfile runs as ({@code USER uid:gid}, its last USER line). */
    private static final long IMAGE_UID = imageUid();

    private static long imageUid() {
        try {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^USER (\\d+)(?::\\d+)?\\s*$")
                    .matcher(java.nio.file.Files.readString(java.nio.file.Path.of("src/main/docker/Dockerfile")));
            long uid = -1;
            while (m.find()) {
                uid = Long.parseLong(m.group(1));
            }
            return uid;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Restricted Pod Security on every pod template, a writable /tmp, and memory sized for -Xmx160m. */
    private static void assertRestricted(List<HasMetadata> objects) {
        List<PodSpec> pods = podSpecs(objects);
        assertThat(pods).isNotEmpty();
        for (PodSpec pod : pods) {
            PodSecurityContext psc = pod.getSecurityContext();
            assertThat(psc.getRunAsNonRoot()).isTrue();
            assertThat(psc.getRunAsUser()).as("the image's user").isEqualTo(IMAGE_UID);
            assertThat(psc.getRunAsGroup()).isEqualTo(IMAGE_UID);
            assertThat(psc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
            assertThat(pod.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
            assertThat(pod.getContainers()).hasSize(1);
            assertThat(pod.getInitContainers()).isEmpty();
            Container c = container(pod);
            SecurityContext sc = c.getSecurityContext();
            assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
            assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
            assertThat(sc.getRunAsNonRoot()).isTrue();
            assertThat(sc.getPrivileged()).isNotEqualTo(Boolean.TRUE);
            assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
            assertThat(sc.getCapabilities().getAdd()).isEmpty();
            assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
            assertThat(mount(c, "/tmp").getReadOnly()).isNotEqualTo(Boolean.TRUE);
            assertThat(tmpVolume(pod).getEmptyDir().getSizeLimit()).isNotNull();
            assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
            assertThat(c.getResources().getLimits()).containsKey("memory");
            assertThat(Quantity.getAmountInBytes(c.getResources().getRequests().get("memory")).longValue()).isGreaterThanOrEqualTo(256L << 20);
            String javaOpts = env(c, "DIFY_DR_JAVA_OPTS");
            assertThat(javaOpts).contains("-Xmx160m");
            assertThat(Quantity.getAmountInBytes(c.getResources().getLimits().get("memory")).longValue()).isGreaterThan(2 * (160L << 20));
            for (Volume v : pod.getVolumes()) {
                assertThat(v.getHostPath()).as("volume " + v.getName()).isNull();
            }
        }
    }

    private static void assertNothingClusterWide(List<HasMetadata> objects) {
        for (HasMetadata o : objects) {
            assertThat(o.getKind()).isNotIn("ClusterRole", "ClusterRoleBinding", "Namespace", "CustomResourceDefinition");
            assertThat(o.getMetadata().getNamespace()).as(o.getKind() + " " + o.getMetadata().getName()).isNotBlank();
        }
    }

    // --- reading the rendering

    private static List<CronJob> scheduleCronJobs(List<HasMetadata> objects) {
        return all(objects, CronJob.class).stream().filter(c -> c.getMetadata().getLabels().containsKey("dify-dr/schedule")).toList();
    }

    private static CronJob cronJobOf(List<CronJob> cronJobs, String schedule) {
        return cronJobs.stream().filter(c -> schedule.equals(c.getMetadata().getLabels().get("dify-dr/schedule")))
                .reduce((a, b) -> {
                    throw new AssertionError("two CronJobs of schedule " + schedule);
                }).orElseThrow(() -> new AssertionError("no CronJob of schedule " + schedule));
    }

    private static <T extends HasMetadata> T one(List<T> objects, String name) {
        return objects.stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " among " + objects.stream().map(o -> o.getMetadata().getName()).toList()));
    }

    private static PodSpec podOf(CronJob cj) {
        return cj.getSpec().getJobTemplate().getSpec().getTemplate().getSpec();
    }

    private static List<PodSpec> podSpecs(List<HasMetadata> objects) {
        List<PodSpec> pods = new ArrayList<>();
        all(objects, CronJob.class).forEach(c -> pods.add(podOf(c)));
        all(objects, Deployment.class).forEach(d -> pods.add(d.getSpec().getTemplate().getSpec()));
        return pods;
    }

    private static Container container(PodSpec pod) {
        return pod.getContainers().get(0);
    }

    private static String env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
                .orElseThrow(() -> new AssertionError("no env " + name));
    }

    private static List<String> envNames(Container c) {
        return c.getEnv().stream().map(EnvVar::getName).toList();
    }

    private static VolumeMount mount(Container c, String path) {
        return c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at " + path));
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    private static Volume tmpVolume(PodSpec pod) {
        return volume(pod, mount(container(pod), "/tmp").getName());
    }

    private static Map<String, Object> config(List<HasMetadata> objects, String secret) {
        return HelmChart.map(one(all(objects, Secret.class), secret).getStringData().get("config.yaml"));
    }

    private static long lockWaitSeconds(Schedule s) {
        int i = s.arguments().indexOf("--lock-wait");
        return i < 0 ? 0 : Durations.parse(s.arguments().get(i + 1)).orElseThrow().toSeconds();
    }

    private static int offset(String install, int spread) {
        Adler32 a = new Adler32();
        a.update(install.getBytes(StandardCharsets.UTF_8));
        return (int) (a.getValue() % spread);
    }

    /** The schedules of a values text, written one file each and read by dify-dr's own loader. */
    private List<Schedule> loadFromValues(String schedulesValues) throws IOException {
        Path dir = Files.createTempDirectory(temp, "schedules");
        List<?> list = (List<?>) HelmChart.map(schedulesValues).get("schedules");
        for (Object s : list) {
            Map<?, ?> m = (Map<?, ?>) s;
            Files.writeString(dir.resolve(m.get("name") + ".yaml"), HelmChart.YAML.writeValueAsString(m));
        }
        return new ScheduleLoader().load(dir);
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
