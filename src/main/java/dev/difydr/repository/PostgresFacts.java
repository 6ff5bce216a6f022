package dev.difydr.repository;

import java.util.List;

public record PostgresFacts(String host, int port, String serverVersion, String pgDumpVersion, List<DatabaseFacts> databases)
        implements dev.difydr.backup.ComponentFacts {
}
