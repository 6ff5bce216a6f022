package dev.difydr.backup;

import dev.difydr.config.KubernetesConfig;
import dev.difydr.config.StorageConfig;
import dev.difydr.repository.StorageFacts;
import dev.difydr.source.storage.StorageSource;
import dev.difydr.source.storage.TarHandoff;
import dev.difydr.source.storage.TarStats;

/** One file storage (a directory, a pod's directory or a bucket prefix) as one {@code storage/<name>.tar.zst}. */
final class StorageBackup implements BackupComponent {
    private final StorageConfig config;
    private final KubernetesConfig kubernetes;
    private StorageSource source;

    StorageBackup(StorageConfig config, KubernetesConfig kubernetes) {
        this.config = config;
        this.kubernetes = kubernetes;
    }

    @Override
    public String component() {
        return "storage";
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public boolean optional() {
        return config.optional();
    }

    @Override
    public String preflight() {
        source = StorageSource.of(config, kubernetes);
        source.preflight();
        return source.describe() + " readable";
    }

    @Override
    public StorageFacts backup(BackupContext context) {
        TarStats[] stats = new TarStats[1];
        context.store(config.name(), "storage", context.layout().storageTar(context.id(), config.name()),
                plain -> stats[0] = TarHandoff.run(source::writeTar, plain), source::stop);
        TarStats s = stats[0];
        return new StorageFacts(config.name(), source.describe(), s.files(), s.directories(), s.symlinks(), s.bytes(),
                s.skipped(), s.tenantsWithPrivkeys());
    }

    @Override
    public void close() {
        if (source != null) {
            source.close();
            source = null;
        }
    }
}
