package dev.difydr.repository;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * What the encrypted {@code kubernetes} artifact holds, by name only so that {@code show} needs no key: the ConfigMaps
 * and Secrets Dify's Deployments reference in {@code namespace} with their keys, the {@code env} entries of each
 * container (names only), and the referenced objects that did not exist ({@code missing}). Never a value.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record KubernetesFacts(String namespace, List<ObjectKeys> configMaps, List<ObjectKeys> secrets, List<ContainerEnv> env,
                              List<Missing> missing) implements dev.difydr.backup.ComponentFacts {

    public KubernetesFacts {
        configMaps = configMaps == null ? List.of() : List.copyOf(configMaps);
        secrets = secrets == null ? List.of() : List.copyOf(secrets);
        env = env == null ? List.of() : List.copyOf(env);
        missing = missing == null ? List.of() : List.copyOf(missing);
    }

    /** A ConfigMap or Secret and its keys ({@code data} and {@code binaryData}). */
    public record ObjectKeys(String name, List<String> keys) {
    }

    /** The names of one container's {@code env} entries, inline or from a ConfigMap or Secret key. */
    public record ContainerEnv(String deployment, String container, List<String> variables) {
    }

    /** A ConfigMap or Secret a Deployment references that does not exist; {@code optional} when every reference says so. */
    public record Missing(String kind, String name, boolean optional, List<String> referencedBy) {
        public String describe() {
            return kind + "/" + name + (optional ? " (optional)" : "") + ", referenced by " + String.join(", ", referencedBy);
        }
    }
}
