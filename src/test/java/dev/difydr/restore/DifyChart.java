package dev.difydr.restore;

/** One rendered community chart loaded under one release name, and the names it gives Dify's parts. */
record DifyChart(String file, String release, boolean boris) {

    static DifyChart douban(String release) {
        return new DifyChart("/charts/douban-dify-0.9.1-release-" + release + ".yaml", release, false);
    }

    static DifyChart boris(String release) {
        return new DifyChart("/charts/boris-dify-0.38.0-rc2-release-" + release + ".yaml", release, true);
    }

    String prefix() {
        return release.contains("dify") ? release : release + "-dify";
    }

    String api() {
        return prefix() + "-api";
    }

    String apiContainer() {
        return boris ? "api" : "dify-api";
    }

    String worker() {
        return prefix() + "-worker";
    }

    String workerContainer() {
        return boris ? "worker" : "dify";
    }

    String beat() {
        return prefix() + (boris ? "-beat" : "-worker-beat");
    }

    String beatContainer() {
        return boris ? "beat" : "dify";
    }

    String plugin() {
        return prefix() + "-plugin-daemon";
    }

    String pluginContainer() {
        return boris ? "plugin-daemon" : "dify-plugin-daemon";
    }

    String web() {
        return prefix() + (boris ? "-web" : "-frontend");
    }

    String sandbox() {
        return prefix() + "-sandbox";
    }

    @Override
    public String toString() {
        return (boris ? "boris" : "douban") + "/" + release;
    }
}
