package dev.difydr.restore;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.Manifest;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Names of the new databases: given with {@code --target-database [SOURCE=]NAME}, or derived from the source's name
 * and the run's id. A source that is itself a copy made by an earlier restore or drill (Dify runs on it since, and
 * backups follow it) loses that suffix first, so names do not grow with every restore.
 */
public final class TargetNames {
    private static final int MAX_IDENTIFIER = 63;

    private TargetNames() {
    }

    /** Source database → new database, for every dump of the backup. */
    static Map<String, String> of(Manifest m, List<String> given) {
        List<Artifact> dumps = DatabaseSteps.dumps(m);
        Map<String, String> names = new LinkedHashMap<>();
        for (String g : given) {
            int eq = g.indexOf('=');
            String source = eq < 0 ? DatabaseSteps.mainDatabase(m) : g.substring(0, eq);
            String name = eq < 0 ? g : g.substring(eq + 1);
            if (dumps.stream().noneMatch(a -> a.name().equals(source))) {
                throw new DrException(Failure.USAGE, "--target-database " + g + ": backup " + m.id() + " has no database '" + source
                        + "' (it has " + dumps.stream().map(Artifact::name).toList() + ")");
            }
            names.put(source, checked(name));
        }
        for (Artifact a : dumps) {
            names.computeIfAbsent(a.name(), n -> {
                String derived = copyName(n, "restore", m.id());
                if (derived.length() > MAX_IDENTIFIER) {
                    throw new DrException(Failure.USAGE, "the derived name " + derived + " is longer than PostgreSQL's 63 characters: "
                            + "pass --target-database " + n + "=NAME");
                }
                return derived;
            });
        }
        if (new LinkedHashSet<>(names.values()).size() < names.size()) {
            throw new DrException(Failure.USAGE, "two databases would be restored into the same name: " + names);
        }
        return names;
    }

    private static final java.util.regex.Pattern COPY_SUFFIX = java.util.regex.Pattern.compile("_(restore|drill)_\\d{8}t\\d{6}_[a-z0-9]+$");

    /** {@code <source>_<kind>_<id>}, e.g. {@code dify_restore_20261122t060000_k3m9qa}, from an id like {@code 20261122T060000Z-k3m9qa}. */
    public static String copyName(String source, String kind, String id) {
        return COPY_SUFFIX.matcher(source).replaceFirst("") + "_" + kind + "_" + id.toLowerCase(Locale.ROOT).replace("z-", "_");
    }

    private static String checked(String name) {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*") || name.length() > MAX_IDENTIFIER) {
            throw new DrException(Failure.USAGE, "--target-database '" + name + "' must be 1-63 letters, digits or '_', not starting with a digit");
        }
        return name;
    }
}
