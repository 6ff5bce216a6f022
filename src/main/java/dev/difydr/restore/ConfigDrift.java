package dev.difydr.restore;

import dev.difydr.kube.ConfigSnapshot;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How the settings Dify cannot silently change — {@code SECRET_KEY} and every {@code DB_*} and {@code REDIS_*}
 * variable of its containers — compare now with a backup's, by name. Values are reduced to SHA-256 digests as soon as
 * they are resolved and compared as such; neither a value nor a digest is ever part of the result.
 */
final class ConfigDrift {
    static final String SECRET_KEY = "SECRET_KEY";

    /** One line per variable ("DB_HOST: same"); {@code secretKeyChanged} in any container. */
    record Result(List<String> lines, List<String> secretKeyChangedIn) {
        boolean secretKeyChanged() {
            return !secretKeyChangedIn.isEmpty();
        }
    }

    private ConfigDrift() {
    }

    static boolean compared(String variable) {
        return variable.equals(SECRET_KEY) || variable.startsWith("DB_") || variable.startsWith("REDIS_");
    }

    static Result compare(ConfigSnapshot backup, ConfigSnapshot live) {
        Map<String, Map<String, byte[]>> before = digests(backup);
        Map<String, Map<String, byte[]>> now = digests(live);
        Set<String> containers = new LinkedHashSet<>(before.keySet());
        containers.addAll(now.keySet());
        Set<String> variables = new TreeSet<>((a, b) -> a.equals(b) ? 0 : a.equals(SECRET_KEY) ? -1 : b.equals(SECRET_KEY) ? 1 : a.compareTo(b));
        before.values().forEach(m -> variables.addAll(m.keySet()));
        now.values().forEach(m -> variables.addAll(m.keySet()));
        List<String> lines = new ArrayList<>();
        List<String> secretKeyChangedIn = new ArrayList<>();
        for (String variable : variables) {
            Map<String, List<String>> byStatus = new TreeMap<>();
            for (String container : containers) {
                byte[] b = before.getOrDefault(container, Map.of()).get(variable);
                byte[] n = now.getOrDefault(container, Map.of()).get(variable);
                String status = b == null && n == null ? null
                        : b == null ? "set now, not in the backup"
                        : n == null ? "in the backup, not set now"
                        : MessageDigest.isEqual(b, n) ? "same" : "differs from the backup";
                if (status != null) {
                    byStatus.computeIfAbsent(status, s -> new ArrayList<>()).add(container);
                }
            }
            if (variable.equals(SECRET_KEY) && byStatus.containsKey("differs from the backup")) {
                secretKeyChangedIn.addAll(byStatus.get("differs from the backup"));
            }
            if (byStatus.keySet().equals(Set.of("same"))) {
                lines.add(variable + ": same");
            } else {
                List<String> parts = new ArrayList<>();
                byStatus.forEach((status, in) -> parts.add(status + " in " + String.join(", ", in)));
                lines.add(variable + ": " + String.join("; ", parts));
            }
        }
        return new Result(lines, secretKeyChangedIn);
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Per {@code deployment/container}, the digest of each compared variable's value. */
    private static Map<String, Map<String, byte[]>> digests(ConfigSnapshot snapshot) {
        Map<String, Map<String, byte[]>> out = new TreeMap<>();
        snapshot.environments().forEach((container, env) -> {
            Map<String, byte[]> d = new TreeMap<>();
            env.forEach((variable, value) -> {
                if (compared(variable)) {
                    d.put(variable, sha256(value));
                }
            });
            out.put(container, d);
        });
        return out;
    }
}
