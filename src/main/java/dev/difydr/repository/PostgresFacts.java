package dev.difydr.repository;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;

/**
 * What the PostgreSQL part of a backup found. {@code physical} is set for a {@code pg_basebackup} of the cluster;
 * its {@code databases} facts are then read over a normal connection as the backup starts, so they are approximate.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PostgresFacts(String host, int port, String serverVersion, String pgDumpVersion, List<DatabaseFacts> databases,
                            Physical physical)
        implements dev.difydr.backup.ComponentFacts {

    public PostgresFacts(String host, int port, String serverVersion, String pgDumpVersion, List<DatabaseFacts> databases) {
        this(host, port, serverVersion, pgDumpVersion, databases, null);
    }

    @JsonIgnore
    public boolean isPhysical() {
        return physical != null;
    }

    /**
     * A physical backup: how {@code pg_basebackup} ran ({@code pgBasebackupVersion}, {@code walMethod},
     * {@code checkpoint}), where it started ({@code startLsn}, {@code timeline}, from the {@code backup_label} inside
     * base.tar), the summed size of the databases and the non-default tablespaces at the start.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Physical(String pgBasebackupVersion, String walMethod, String checkpoint, String label, String startLsn,
                           Integer timeline, long databasesBytes, List<Tablespace> tablespaces, String databaseFactsNote) {
    }

    public record Tablespace(long oid, String name, String location) {
    }
}
