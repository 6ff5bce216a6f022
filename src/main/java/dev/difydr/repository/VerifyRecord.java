package dev.difydr.repository;

import java.time.Instant;
import java.util.List;

/**
 * The verdict of the last {@code verify} of a backup (also the one a drill runs), stored beside its manifest. It is
 * no artifact and no part of the manifest; {@code prune}'s {@code minKeep} counts the backups whose last verdict
 * {@code passed}. {@code problems}: one line per artifact that failed.
 */
public record VerifyRecord(Instant verifiedAt, boolean readData, boolean passed, List<String> problems) {
    public VerifyRecord {
        problems = problems == null ? List.of() : List.copyOf(problems);
    }
}
