package dev.difydr.kube;

/**
 * Where the value a container sees for one variable is kept: an entry of the container's own {@code env} list, a
 * ConfigMap key or a Secret key (reached through {@code valueFrom} or {@code envFrom}). Changing it there changes
 * what the container reads at its next start.
 */
public record EnvSource(Kind kind, String deployment, String container, boolean init, int index, String object, String key) {

    public enum Kind { INLINE, CONFIG_MAP, SECRET }

    static EnvSource inline(String deployment, String container, boolean init, int index, String name) {
        return new EnvSource(Kind.INLINE, deployment, container, init, index, null, name);
    }

    static EnvSource configMap(String name, String key) {
        return new EnvSource(Kind.CONFIG_MAP, null, null, false, -1, name, key);
    }

    static EnvSource secret(String name, String key) {
        return new EnvSource(Kind.SECRET, null, null, false, -1, name, key);
    }

    public String describe() {
        return switch (kind) {
            case INLINE -> "Deployment/" + deployment + " " + (init ? "init container " : "container ") + container + " env " + key;
            case CONFIG_MAP -> "ConfigMap/" + object + " key " + key;
            case SECRET -> "Secret/" + object + " key " + key;
        };
    }
}
