package dev.difydr.restore;

import dev.difydr.config.Config;
import dev.difydr.config.ConfigLoader;
import dev.difydr.pipeline.Progress;
import dev.difydr.repository.Repository;
import dev.difydr.store.Stores;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restore process that dies by SIGKILL, sent to itself, right after a named step completed (and was journaled):
 * no finally block, shutdown hook or rollback runs, as when a node dies or the OOM killer strikes. With no step
 * named ("-") it runs until someone else kills it. Arguments: config file, step, components for --with ("" for none)
 * and, optionally, a step after which the restore fails (so that it rolls back, and a rollback step can be the one
 * killed after). The cluster comes from KUBERNETES_MASTER.
 */
final class KilledRestore {
    private KilledRestore() {
    }

    public static void main(String[] args) throws Exception {
        Config config = new ConfigLoader().load(Path.of(args[0]));
        String killAfter = args[1];
        Set<String> with = new LinkedHashSet<>(args.length > 2 && !args[2].isEmpty() ? List.of(args[2].split(",")) : List.of());
        String failAfter = args.length > 3 ? args[3] : null;
        StepListener kill = new StepListener() {
            @Override
            public void after(String step) {
                if (step.equals(killAfter)) {
                    sigkillSelf();
                }
                if (step.equals(failAfter)) {
                    throw new IllegalStateException("injected failure after " + step);
                }
            }
        };
        KubernetesClient client = new KubernetesClientBuilder().withConfig(new ConfigBuilder(io.fabric8.kubernetes.client.Config.autoConfigure(null))
                .withNamespace(config.kubernetes().namespace()).build()).build();
        Repository repository = new Repository(Stores.open(config.repository()), config.deployment());
        JournalStore journals = new JournalStore(repository, Path.of(config.restore().journalDir()));
        RestoreWorkflow workflow = new RestoreWorkflow(config, repository, client, journals, label -> Progress.none(), kill, Clock.systemUTC());
        Journal planned = workflow.plan(new RestoreWorkflow.Request("latest", List.of(), null, false, Map.of(), with, false, false, false));
        System.out.println("restore " + planned.id);
        workflow.run(planned);
        System.out.println("not killed");
        System.exit(3);
    }

    private static void sigkillSelf() {
        try {
            new ProcessBuilder("kill", "-KILL", String.valueOf(ProcessHandle.current().pid())).inheritIO().start().waitFor();
            Thread.sleep(60_000);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("SIGKILL did not end the process");
    }
}
