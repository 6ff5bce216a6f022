package dev.difydr.store;

import dev.difydr.config.OssConfig;
import dev.difydr.config.RepositoryConfig;
import dev.difydr.config.S3Config;
import dev.difydr.store.file.FileObjectStore;
import dev.difydr.store.oss.OssObjectStore;
import dev.difydr.store.s3.S3ObjectStore;
import java.net.URI;
import java.nio.file.Path;

/** The one list of store kinds: picks the store for a repository URL (validated by the configuration loader). */
public final class Stores {
    private Stores() {
    }

    public static ObjectStore open(RepositoryConfig repository) {
        URI url = URI.create(repository.url());
        return switch (url.getScheme()) {
            case "file" -> new FileObjectStore(Path.of(url));
            case "s3" -> new S3ObjectStore(url, repository.s3() == null ? S3Config.DEFAULT : repository.s3());
            case "oss" -> new OssObjectStore(url, repository.oss() == null ? OssConfig.DEFAULT : repository.oss());
            default -> throw new IllegalArgumentException("unsupported repository scheme " + url.getScheme());
        };
    }
}
