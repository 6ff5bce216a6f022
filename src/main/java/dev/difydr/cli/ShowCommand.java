package dev.difydr.cli;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.difydr.Printable;
import dev.difydr.config.Config;
import dev.difydr.pipeline.Bytes;
import dev.difydr.repository.Artifact;
import dev.difydr.repository.DatabaseFacts;
import dev.difydr.repository.KubernetesFacts;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.RedisFacts;
import dev.difydr.repository.StorageFacts;
import dev.difydr.repository.PostgresFacts;
import dev.difydr.repository.Repository;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "show", description = "Show one backup's manifest.")
final class ShowCommand implements Runnable {
    @ParentCommand
    Cli cli;

    @Parameters(paramLabel = "ID", description = "A backup id, or 'latest'.")
    String id;

    @Override
    public void run() {
        Config config = cli.loadConfig();
        try (Repository repository = cli.openRepository(config)) {
            cli.print(new Shown(repository.resolve(id)));
        }
    }

    record Shown(@JsonUnwrapped Manifest manifest) implements Printable {
        @Override
        public String toText() {
            Manifest m = manifest;
            StringBuilder sb = new StringBuilder();
            sb.append("backup      ").append(m.id()).append('\n');
            sb.append("deployment  ").append(m.deployment()).append('\n');
            sb.append("status      ").append(m.status()).append('\n');
            sb.append("started     ").append(m.startedAt()).append('\n');
            sb.append("finished    ").append(m.finishedAt()).append('\n');
            sb.append("tool        dify-dr ").append(m.toolVersion()).append('\n');
            sb.append("size        ").append(Bytes.human(m.storedBytes())).append(" stored\n");
            sb.append("artifacts\n");
            for (Artifact a : m.artifacts()) {
                sb.append(String.format(Locale.ROOT, "  %s  (%s, %s)%n    plain  %s  sha256 %s%n    stored %s  sha256 %s%n",
                        a.path(), a.kind(), a.compression() + (a.encrypted() ? ", " + a.encryption() + " key " + a.keyId() : ""),
                        Bytes.human(a.plainBytes()), a.plainSha256(), Bytes.human(a.storedBytes()), a.sha256()));
            }
            if (m.postgres() != null) {
                sb.append("postgres    ").append(m.postgres().serverVersion()).append(" at ").append(m.postgres().host()).append(':')
                        .append(m.postgres().port()).append(" (").append(m.postgres().isPhysical()
                                ? m.postgres().physical().pgBasebackupVersion() : m.postgres().pgDumpVersion()).append(")\n");
                if (m.postgres().isPhysical()) {
                    PostgresFacts.Physical p = m.postgres().physical();
                    sb.append("  physical: wal ").append(p.walMethod()).append(", checkpoint ").append(p.checkpoint())
                            .append(", start ").append(p.startLsn()).append(" on timeline ").append(p.timeline())
                            .append(", databases ").append(Bytes.human(p.databasesBytes())).append('\n')
                            .append("  facts below: ").append(p.databaseFactsNote()).append('\n');
                }
                for (DatabaseFacts d : m.postgres().databases()) {
                    sb.append("  ").append(d.name()).append(d.roles() == null ? "" : " (Dify's " + String.join(" and ", d.roles()) + " database)")
                            .append(": ").append(Bytes.human(d.sizeBytes()))
                            .append(", alembic_version ").append(d.alembicVersion() == null ? "(none)" : d.alembicVersion()).append('\n');
                    for (Map.Entry<String, Long> c : d.rowCounts().entrySet()) {
                        sb.append(String.format(Locale.ROOT, "    %-26s %d rows%n", c.getKey(), c.getValue()));
                    }
                }
            }
            if (m.redis() != null) {
                RedisFacts r = m.redis();
                sb.append("redis       ").append(r.version()).append(" at ").append(r.host()).append(':').append(r.port())
                        .append(r.format().equals("rdb") ? ", RDB snapshot (version " + r.rdbVersion() + ")" : ", SCAN/DUMP keys stream")
                        .append(r.fallbackReason() == null ? "" : " because " + r.fallbackReason()).append('\n');
                if (r.keys() != null) {
                    r.keys().forEach((db, n) -> sb.append(String.format(Locale.ROOT, "  db %-3d %d keys%n", db, n)));
                }
                if (r.unsupported() != null && !r.unsupported().isEmpty()) {
                    sb.append("  not restorable by RESTORE: ").append(String.join(", ", r.unsupported())).append('\n');
                }
            }
            if (m.storage() != null) {
                for (StorageFacts f : m.storage()) {
                    sb.append("storage     ").append(f.name()).append(" from ").append(f.source()).append(": ").append(f.files()).append(" files (")
                            .append(Bytes.human(f.bytes())).append("), ").append(f.directories()).append(" directories, ").append(f.symlinks())
                            .append(" symlinks, ").append(f.tenantsWithPrivkeys()).append(" tenant private keys")
                            .append(f.skipped() == 0 ? "" : ", " + f.skipped() + " skipped (vanished while read, sockets, fifos)").append('\n');
                }
            }
            if (m.kubernetes() != null) {
                KubernetesFacts k = m.kubernetes();
                sb.append("kubernetes  namespace ").append(k.namespace()).append(": ").append(k.configMaps().size()).append(" ConfigMaps, ")
                        .append(k.secrets().size()).append(" Secrets, env of ").append(k.env().size())
                        .append(" containers (names and keys; the values are only in the encrypted artifact)\n");
                k.configMaps().forEach(o -> sb.append("  ConfigMap ").append(o.name()).append(": ").append(String.join(", ", o.keys())).append('\n'));
                k.secrets().forEach(o -> sb.append("  Secret ").append(o.name()).append(": ").append(String.join(", ", o.keys())).append('\n'));
                k.env().forEach(e -> sb.append("  Deployment ").append(e.deployment()).append(" container ").append(e.container())
                        .append(" env: ").append(String.join(", ", e.variables())).append('\n'));
                k.missing().forEach(x -> sb.append("  missing ").append(x.describe()).append('\n'));
            }
            if (m.skipped() != null) {
                for (Manifest.Skipped s : m.skipped()) {
                    sb.append("skipped     ").append(s.component()).append(' ').append(s.name()).append(": ").append(s.reason()).append('\n');
                }
            }
            if (m.warnings() != null) {
                for (String w : m.warnings()) {
                    sb.append("warning     ").append(w).append('\n');
                }
            }
            return sb.toString();
        }
    }
}
