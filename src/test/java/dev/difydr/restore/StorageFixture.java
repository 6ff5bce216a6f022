package dev.difydr.restore;

import dev.difydr.source.storage.PrivkeysCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** A Dify app storage: each tenant's private key (mode 0600), an upload with a name beyond ASCII, a symlink. */
final class StorageFixture {
    private StorageFixture() {
    }

    static void writeTenantTree(Path storage, List<String> tenants) throws IOException {
        for (String tenant : tenants) {
            Path key = storage.resolve(PrivkeysCheck.keyPath(tenant));
            Files.createDirectories(key.getParent());
            Files.writeString(key, "-----BEGIN RSA PRIVATE KEY-----\n" + tenant + "\n-----END RSA PRIVATE KEY-----\n");
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            Path upload = storage.resolve("upload_files/" + tenant + "/résumé für " + tenant + ".pdf");
            Files.createDirectories(upload.getParent());
            Files.write(upload, new byte[70_000 + tenant.hashCode() % 1000]);
            Files.setLastModifiedTime(upload, FileTime.fromMillis(1_700_000_000_000L));
        }
        Files.createSymbolicLink(storage.resolve("latest-upload"), Path.of("upload_files/" + tenants.get(0)));
    }
}
