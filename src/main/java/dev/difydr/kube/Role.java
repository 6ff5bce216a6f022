package dev.difydr.kube;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The part a Deployment plays in Dify. Writers change the databases and are stopped during a restore; the others
 * (web, sandbox, proxies) never touch them and keep running.
 */
public enum Role {
    API(true, "api"),
    WORKER(true, "worker"),
    BEAT(true, "beat", "worker-beat", "celery-beat"),
    PLUGIN_DAEMON(true, "plugin-daemon", "plugin_daemon", "plugindaemon", "plugin"),
    WEB(false, "web", "frontend"),
    SANDBOX(false, "sandbox", "local-sandbox"),
    OTHER(false, "other");

    private final boolean writer;
    private final List<String> names;

    Role(boolean writer, String... names) {
        this.writer = writer;
        this.names = List.of(names);
    }

    public boolean writer() {
        return writer;
    }

    public String label() {
        return names.get(0);
    }

    /** The role named by a chart's component label or the configuration; unknown components are {@link #OTHER}. */
    public static Role of(String component) {
        return find(component).orElse(OTHER);
    }

    static Optional<Role> find(String name) {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(r -> r.names.contains(n)).findFirst();
    }

    public static boolean isName(String name) {
        return find(name).isPresent();
    }

    public static String names() {
        return Arrays.stream(values()).map(Role::label).toList().toString();
    }
}
