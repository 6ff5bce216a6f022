package dev.difydr.repository;

/**
 * What one storage's tar holds. {@code tenantsWithPrivkeys}: {@code privkeys/<tenant>/private.pem} files in it, for a
 * restore to compare with the tenants of the restored database; {@code skipped}: files left out (vanished while read,
 * sockets, fifos, devices).
 */
public record StorageFacts(String name, String source, long files, long directories, long symlinks, long bytes,
                           long skipped, long tenantsWithPrivkeys) implements dev.difydr.backup.ComponentFacts {
}
