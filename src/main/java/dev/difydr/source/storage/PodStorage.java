package dev.difydr.source.storage;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.KubernetesConfig;
import dev.difydr.config.StorageConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ContainerResource;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.io.input.ProxyInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory inside a running pod (the plugin daemon's {@code /app/storage}, an api pod's PVC), read and written by
 * the pod's own {@code tar} through the Kubernetes exec API, so that dify-dr needs no volume mount. The pod's archive
 * is re-written entry by entry into dify-dr's tar dialect (counting what it holds and dropping {@code ./}), and an
 * archive going back in is re-written after each entry passed {@link TarEntryRules}, because the pod's tar would
 * follow whatever the archive says. Symlinks already present in the pod's directory cannot be seen from here: restore
 * into an empty or trusted directory.
 */
public final class PodStorage implements StorageSource, StorageTarget {
    private static final Logger log = LoggerFactory.getLogger(PodStorage.class);
    private static final int EXIT_TIMEOUT_SECONDS = 60;
    private static final int STDERR_LIMIT = 16 * 1024;

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String namespace;
    private final String selector;
    private final String container;
    private final String path;
    private volatile ExecWatch running;

    public PodStorage(KubernetesClient client, String namespace, String selector, String container, String path) {
        this(client, false, namespace, selector, container, path);
    }

    private PodStorage(KubernetesClient client, boolean ownsClient, String namespace, String selector, String container, String path) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.namespace = namespace;
        this.selector = selector;
        this.container = container;
        this.path = path;
    }

    /** A client from the in-cluster service account or the kubeconfig, as the rest of dify-dr uses. */
    static PodStorage connect(StorageConfig.PodPath pod, KubernetesConfig kubernetes) {
        String namespace = pod.namespace() != null ? pod.namespace() : kubernetes != null ? kubernetes.namespace() : "dify";
        io.fabric8.kubernetes.client.Config k = new io.fabric8.kubernetes.client.ConfigBuilder(io.fabric8.kubernetes.client.Config.autoConfigure(null))
                .withNamespace(namespace)
                .withRequestTimeout(30_000)
                .withConnectionTimeout(10_000)
                .build();
        return new PodStorage(new KubernetesClientBuilder().withConfig(k).build(), true, namespace, pod.selector(), pod.container(), pod.path());
    }

    @Override
    public String describe() {
        return "pod " + namespace + "/" + selector + (container == null ? "" : " container " + container) + ":" + path;
    }

    @Override
    public void preflight() {
        runningPod();
    }

    /** The first Running pod the selector matches, by name, so that repeated runs pick the same one. */
    String runningPod() {
        List<Pod> pods;
        try {
            pods = client.pods().inNamespace(namespace).withLabelSelector(selector).list().getItems();
        } catch (KubernetesClientException e) {
            throw new DrException(Failure.KUBERNETES, "cannot list pods '" + selector + "' in namespace " + namespace + ": " + e.getMessage(), e);
        }
        return pods.stream()
                .filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
                .map(p -> p.getMetadata().getName())
                .sorted()
                .findFirst()
                .orElseThrow(() -> new DrException(Failure.SOURCE, "no Running pod matches '" + selector + "' in namespace "
                        + namespace + " (" + pods.size() + " pods match in other phases); the storage in " + path + " cannot be read"));
    }

    /** The exec command of a backup: GNU tar, busybox tar and bsdtar all take it. */
    List<String> backupCommand() {
        return List.of("tar", "-cf", "-", "-C", path, ".");
    }

    /** {@code --skip-old-files} keeps existing files (GNU tar); {@code --overwrite} replaces them. */
    List<String> restoreCommand(boolean overwrite) {
        return List.of("tar", "-xf", "-", "-C", path, "--no-same-owner", overwrite ? "--overwrite" : "--skip-old-files");
    }

    @Override
    public TarStats writeTar(OutputStream out) throws IOException {
        String pod = runningPod();
        ByteArrayOutputStream stderr = new BoundedBuffer(STDERR_LIMIT);
        ExecWatch watch = exec(pod).redirectingOutput().writingError(stderr).exec(backupCommand().toArray(String[]::new));
        running = watch;
        try (watch) {
            TarStats.Counter counter = new TarStats.Counter();
            TarArchiveInputStream in = TarFormat.reader(new PodOutput(watch.getOutput()));
            TarArchiveOutputStream tar = TarFormat.writer(out);
            byte[] buffer = new byte[TarFormat.BUFFER];
            try {
                TarArchiveEntry e;
                while ((e = in.getNextEntry()) != null) {
                    String rel = TarEntryRules.relativeName(e);
                    if (rel.isEmpty()) {
                        continue;
                    }
                    e.setName(e.isDirectory() ? rel + "/" : rel);
                    tar.putArchiveEntry(e);
                    if (e.isFile()) {
                        int n;
                        while ((n = in.read(buffer)) > 0) {
                            tar.write(buffer, 0, n);
                        }
                        counter.file(rel, e.getSize());
                    } else if (e.isDirectory()) {
                        counter.directories++;
                    } else {
                        counter.symlinks++;
                    }
                    tar.closeArchiveEntry();
                }
            } catch (PodOutput.Broken broken) {
                // a tar that fails mid-way closes the stream; its exit status says why
                int exit = exitCode(watch, pod, stderr);
                throw new DrException(Failure.SOURCE, "the tar stream from pod " + namespace + "/" + pod + " broke off ("
                        + broken.getCause().getMessage() + "); tar exited with code " + exit + ": "
                        + stderr.toString(StandardCharsets.UTF_8).strip(), broken);
            }
            tar.finish();
            tar.close();
            int exit = exitCode(watch, pod, stderr);
            if (exit == 1) {
                // GNU tar: "some files differ", i.e. changed or vanished while read; Dify keeps writing
                log.warn("{} in pod {}: tar reported files that changed while read: {}", path, pod, stderr.toString(StandardCharsets.UTF_8).strip());
            } else if (exit != 0) {
                throw new DrException(Failure.SOURCE, "tar in pod " + namespace + "/" + pod + " failed with exit code " + exit
                        + ": " + stderr.toString(StandardCharsets.UTF_8).strip());
            }
            return counter.stats();
        } finally {
            running = null;
        }
    }

    @Override
    public void stop() {
        ExecWatch w = running;
        if (w != null) {
            w.close();
        }
    }

    @Override
    public boolean exists(String relativePath) {
        String pod = runningPod();
        try (ExecWatch w = exec(pod).exec("test", "-f", path + "/" + relativePath)) {
            return exitCode(w, pod, new ByteArrayOutputStream()) == 0;
        }
    }

    /**
     * Streams the checked archive into the pod's {@code tar -x}. Conflicts cannot be listed from here: without
     * {@code overwrite}, existing files are kept as they are ({@code unchanged} is then unknown and reported as 0).
     */
    @Override
    public StorageRestore.Result restore(InputStream plainTar, boolean overwrite) throws IOException {
        String pod = runningPod();
        ByteArrayOutputStream stderr = new BoundedBuffer(STDERR_LIMIT);
        TarStats.Counter counter = new TarStats.Counter();
        try (ExecWatch watch = exec(pod).redirectingInput().writingOutput(OutputStream.nullOutputStream()).writingError(stderr)
                .exec(restoreCommand(overwrite).toArray(String[]::new))) {
            try (OutputStream stdin = watch.getInput()) {
                checkedCopy(plainTar, stdin, counter);
            }
            int exit = exitCode(watch, pod, stderr);
            if (exit != 0) {
                throw new DrException(Failure.SOURCE, "tar -x in pod " + namespace + "/" + pod + " failed with exit code " + exit
                        + ": " + stderr.toString(StandardCharsets.UTF_8).strip());
            }
        }
        TarStats s = counter.stats();
        return new StorageRestore.Result(describe(), s.files(), s.directories(), s.symlinks(), s.bytes(), 0, 0, List.of());
    }

    /**
     * Re-writes {@code tar} to {@code out} after each entry passed the rules, refusing writes through its own symlinks
     * (GNU tar's {@code --overwrite} writes a file through a symlink of the same name) and hard links to anything but a
     * regular file earlier in the archive (GNU tar makes a hard link to a symlink a second symlink, whose target then
     * reads from the new place).
     */
    static void checkedCopy(InputStream plainTar, OutputStream out, TarStats.Counter counter) throws IOException {
        TarArchiveInputStream in = TarFormat.reader(plainTar);
        TarArchiveOutputStream tar = TarFormat.writer(out);
        Set<String> symlinks = new HashSet<>();
        Set<String> files = new HashSet<>();
        byte[] buffer = new byte[TarFormat.BUFFER];
        TarArchiveEntry e;
        while ((e = in.getNextEntry()) != null) {
            String rel = TarEntryRules.relativeName(e);
            if (rel.isEmpty()) {
                continue;
            }
            List<String> parts = TarEntryRules.components(rel);
            StringBuilder prefix = new StringBuilder();
            for (int i = 0; i < parts.size() - 1; i++) {
                prefix.append(i == 0 ? "" : "/").append(parts.get(i));
                if (symlinks.contains(prefix.toString())) {
                    throw TarEntryRules.refused(e.getName(), "would be written through the symlink '" + prefix + "'");
                }
            }
            if (symlinks.contains(rel)) {
                throw TarEntryRules.refused(e.getName(), "would be written through the symlink '" + rel + "'");
            }
            if (e.isSymbolicLink()) {
                TarEntryRules.checkSymlink(rel, e.getName(), e.getLinkName());
                symlinks.add(rel);
                counter.symlinks++;
            } else if (e.isLink()) {
                String linked = TarEntryRules.hardLinkTarget(e.getName(), e.getLinkName());
                if (!files.contains(linked)) {
                    throw TarEntryRules.refused(e.getName(), "is a hard link to '" + TarEntryRules.printable(e.getLinkName())
                            + "', which is no regular file earlier in the archive");
                }
                e.setLinkName(linked);
                files.add(rel);
            } else if (e.isFile()) {
                files.add(rel);
            } else if (e.isDirectory()) {
                counter.directories++;
            }
            e.setName(e.isDirectory() ? rel + "/" : rel);
            tar.putArchiveEntry(e);
            if (e.isFile()) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    tar.write(buffer, 0, n);
                }
                counter.file(rel, e.getSize());
            }
            tar.closeArchiveEntry();
        }
        tar.finish();
        tar.close();
    }

    private ContainerResource exec(String pod) {
        var resource = client.pods().inNamespace(namespace).withName(pod);
        return container == null ? resource : resource.inContainer(container);
    }

    private int exitCode(ExecWatch watch, String pod, ByteArrayOutputStream stderr) {
        try {
            Integer code = watch.exitCode().get(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return code == null ? -1 : code;
        } catch (ExecutionException e) {
            throw new DrException(Failure.SOURCE, "exec in pod " + namespace + "/" + pod + " failed: " + e.getCause().getMessage()
                    + " " + stderr.toString(StandardCharsets.UTF_8).strip(), e.getCause());
        } catch (TimeoutException e) {
            throw new DrException(Failure.SOURCE, "exec in pod " + namespace + "/" + pod + " gave no exit status within "
                    + EXIT_TIMEOUT_SECONDS + " s after its output ended", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DrException(Failure.SOURCE, "interrupted while waiting for exec in pod " + namespace + "/" + pod, e);
        }
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    /** Marks failures of the exec stream, so that they are the source's and not the repository's. */
    private static final class PodOutput extends ProxyInputStream {
        static final class Broken extends IOException {
            Broken(IOException cause) {
                super(cause);
            }
        }

        PodOutput(InputStream in) {
            super(in);
        }

        @Override
        protected void handleIOException(IOException e) throws IOException {
            throw new Broken(e);
        }
    }

    /** Keeps the first bytes of a stream: a tar that fails can print a line per file. */
    private static final class BoundedBuffer extends ByteArrayOutputStream {
        private final int limit;

        BoundedBuffer(int limit) {
            this.limit = limit;
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            super.write(b, off, Math.max(0, Math.min(len, limit - count)));
        }

        @Override
        public synchronized void write(int b) {
            if (count < limit) {
                super.write(b);
            }
        }
    }
}
