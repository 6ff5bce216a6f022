package dev.difydr.kube;

import java.util.List;

/**
 * One value to change where it is kept, and the Deployments whose pods read it there and must restart to see it.
 * Applied forward by a restore and backward by its rollback; either way only from the expected value, so that a
 * value someone else changed meanwhile is reported instead of overwritten.
 */
public record EnvChange(EnvSource source, String oldValue, String newValue, List<String> deployments) {

    public String describe() {
        return source.describe() + ": " + oldValue + " -> " + newValue + " (read by " + String.join(", ", deployments) + ")";
    }
}
