package dev.difydr.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.difydr.Printable;
import dev.difydr.config.Config;
import dev.difydr.config.Durations;
import dev.difydr.pipeline.Bytes;
import dev.difydr.repository.Manifest;
import dev.difydr.repository.Repository;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "list", description = "List backups in the repository, newest first.")
final class ListCommand implements Runnable {
    @ParentCommand
    Cli cli;

    @Option(names = "--all", description = "Also list runs that left objects but no manifest (status 'incomplete': never usable).")
    boolean all;

    @Override
    public void run() {
        Config config = cli.loadConfig();
        try (Repository repository = cli.openRepository(config)) {
            Instant now = Instant.now();
            List<Row> rows = repository.list(all).stream().map(e -> new Row(e.id().value(), e.status(), e.startedAt(),
                    e.manifest().map(Manifest::finishedAt).orElse(null), e.storedBytes(),
                    e.manifest().map(Manifest::components).orElse(List.of()), e.damage(), e.note())).toList();
            cli.print(new Listing(rows, now));
        }
    }

    /** {@code reason}: why a {@code damaged} backup cannot be used; {@code note}: what is odd about a usable one. */
    record Row(String id, String status, Instant startedAt, Instant finishedAt, long storedBytes, List<String> components,
               @JsonInclude(JsonInclude.Include.NON_NULL) String reason, @JsonInclude(JsonInclude.Include.NON_NULL) String note) {
    }

    record Listing(List<Row> backups, @com.fasterxml.jackson.annotation.JsonIgnore Instant now) implements Printable {
        @Override
        public String toText() {
            if (backups.isEmpty()) {
                return "no backups\n";
            }
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-24s %-11s %-9s %10s  %s%n", "ID", "STATUS", "AGE", "SIZE", "COMPONENTS"));
            for (Row r : backups) {
                sb.append(String.format(Locale.ROOT, "%-24s %-11s %-9s %10s  %s%n", r.id(), r.status(), Durations.coarse(Duration.between(r.startedAt(), now)),
                        Bytes.human(r.storedBytes()), String.join(",", r.components())));
                if (r.reason() != null) {
                    sb.append("  ").append(r.status()).append(": ").append(r.reason()).append('\n');
                }
                if (r.note() != null) {
                    sb.append("  note: ").append(r.note()).append('\n');
                }
            }
            return sb.toString();
        }
    }
}
