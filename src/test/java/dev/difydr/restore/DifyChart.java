package dev.difydr.restore;

/** One rendered community chart loaded under one release name, and the names it gives Dify's parts. */
public record DifyChart(String file, String release, boolean boris) {

    public static DifyChart douban(String release) {
        return new DifyChart("/charts/douban-dify-0.9.1-release-" + release + ".yaml", release, false);
    }

    public static DifyChart boris(String release) {
        return new DifyChart("/charts/boris-dify-0.38.0-rc2-release-" + release + ".yaml", release, true);
    }

    public String prefix() {
        return release.contains("dify") ? release : release + "-dify";
    }

    public String api() {
        return prefix() + "-api";
    }

    public String apiContainer() {
        return boris ? "api" : "dify-api";
    }

    public String worker() {
        return prefix() + "-worker";
    }

    public String workerContainer() {
        return boris ? "worker" : "dify";
    }

    public String beat() {
        return prefix() + (boris ? "-beat" : "-worker-beat");
    }

    public String beatContainer() {
        return boris ? "beat" : "dify";
    }

    public String plugin() {
        return prefix() + "-plugin-daemon";
    }

    public String pluginContainer() {
        return boris ? "plugin-daemon" : "dify-plugin-daemon";
    }

    public String web() {
        return prefix() + (boris ? "-web" : "-frontend");
    }

    public String sandbox() {
        return prefix() + "-sandbox";
    }

    @Override
    public String toString() {
        return (boris ? "boris" : "douban") + "/" + release;
    }
}
