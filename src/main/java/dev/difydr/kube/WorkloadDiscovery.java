package dev.difydr.kube;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.KubernetesConfig;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Finds Dify's Deployments: by the Helm release's {@code app.kubernetes.io/instance} label (both community charts set
 * it, and name the component in {@code app.kubernetes.io/component} or {@code component}), or by the explicit list
 * in the configuration. Anything ambiguous stops here, before a single object is changed, with what was found.
 */
public final class WorkloadDiscovery {
    private static final String INSTANCE = "app.kubernetes.io/instance";
    private static final List<String> COMPONENT_LABELS = List.of("app.kubernetes.io/component", "component");
    private static final List<Role> AT_MOST_ONE = List.of(Role.API, Role.WORKER, Role.BEAT, Role.PLUGIN_DAEMON);

    private final KubernetesClient client;
    private final KubernetesConfig config;
    private final List<String> variables;

    public WorkloadDiscovery(KubernetesClient client, KubernetesConfig config) {
        this(client, config, DatabaseEnv.VARIABLES);
    }

    /** Discovery that resolves only these database {@code variables} of each workload (see {@link DatabaseEnv}). */
    public WorkloadDiscovery(KubernetesClient client, KubernetesConfig config, List<String> variables) {
        this.client = client;
        this.config = config;
        this.variables = variables;
    }

    public List<Workload> discover() {
        DatabaseEnv env = new DatabaseEnv(client, config.namespace(), variables);
        List<Workload> found = config.workloads().isEmpty() ? byRelease(env) : listed(env);
        Map<Role, List<String>> byRole = new EnumMap<>(Role.class);
        for (Workload w : found) {
            byRole.computeIfAbsent(w.role(), r -> new ArrayList<>()).add(w.name());
        }
        List<String> problems = new ArrayList<>();
        for (Role role : AT_MOST_ONE) {
            if (byRole.getOrDefault(role, List.of()).size() > 1) {
                problems.add("more than one " + role.label() + " Deployment: " + byRole.get(role));
            }
        }
        if (!byRole.containsKey(Role.API)) {
            problems.add("no api Deployment");
        }
        if (!problems.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, "cannot tell which Deployments are Dify's in namespace " + config.namespace()
                    + ": " + String.join("; ", problems) + ". Found: " + describe(found)
                    + ". Name them in kubernetes.workloads ({name, role}) to settle it.");
        }
        return found;
    }

    private List<Workload> byRelease(DatabaseEnv env) {
        List<Deployment> deployments;
        try {
            deployments = client.apps().deployments().inNamespace(config.namespace()).withLabel(INSTANCE, config.release()).list().getItems();
        } catch (KubernetesClientException e) {
            throw KubeErrors.failed("list Deployments of release " + config.release(), config.namespace(), e);
        }
        if (deployments.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, "no Deployment labelled " + INSTANCE + "=" + config.release() + " in namespace "
                    + config.namespace() + "; Deployments there: " + allDeployments()
                    + ". Check kubernetes.namespace and kubernetes.release, or list the workloads in kubernetes.workloads.");
        }
        List<Workload> out = new ArrayList<>();
        for (Deployment d : deployments) {
            Map<String, String> labels = d.getMetadata().getLabels() == null ? Map.of() : d.getMetadata().getLabels();
            String component = COMPONENT_LABELS.stream().map(labels::get).filter(v -> v != null).findFirst().orElse(null);
            out.add(workload(d, Role.of(component), env));
        }
        return out;
    }

    private List<Workload> listed(DatabaseEnv env) {
        List<Workload> out = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (KubernetesConfig.WorkloadSpec spec : config.workloads()) {
            Deployment d;
            try {
                d = client.apps().deployments().inNamespace(config.namespace()).withName(spec.name()).get();
            } catch (KubernetesClientException e) {
                throw KubeErrors.failed("read Deployment " + spec.name(), config.namespace(), e);
            }
            if (d == null) {
                missing.add(spec.name());
            } else {
                out.add(workload(d, Role.of(spec.role()), env));
            }
        }
        if (!missing.isEmpty()) {
            throw new DrException(Failure.KUBERNETES, "Deployments listed in kubernetes.workloads are missing from namespace "
                    + config.namespace() + ": " + missing + "; Deployments there: " + allDeployments());
        }
        return out;
    }

    private static Workload workload(Deployment d, Role role, DatabaseEnv env) {
        Integer replicas = d.getSpec().getReplicas();
        return new Workload(d.getMetadata().getName(), role, replicas == null ? 1 : replicas, env.read(d));
    }

    private String allDeployments() {
        try {
            List<String> names = client.apps().deployments().inNamespace(config.namespace()).list().getItems().stream()
                    .map(d -> d.getMetadata().getName() + labelsOf(d)).toList();
            return names.isEmpty() ? "none" : String.join(", ", names);
        } catch (KubernetesClientException e) {
            return "(cannot list: " + e.getMessage() + ")";
        }
    }

    private static String labelsOf(Deployment d) {
        Map<String, String> labels = d.getMetadata().getLabels();
        return labels == null || labels.isEmpty() ? "" : " " + labels.entrySet().stream()
                .filter(e -> e.getKey().equals(INSTANCE) || COMPONENT_LABELS.contains(e.getKey()))
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",", "{", "}"));
    }

    private static String describe(List<Workload> found) {
        return found.isEmpty() ? "nothing" : found.stream().map(w -> w.name() + " (" + w.role().label() + ")").collect(Collectors.joining(", "));
    }
}
