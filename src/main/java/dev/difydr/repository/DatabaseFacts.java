package dev.difydr.repository;

import java.util.Map;

/** What a logical dump of one database contained, taken in the dump's own snapshot. */
public record DatabaseFacts(
        String name,
        String alembicVersion,
        long sizeBytes,
        Map<String, Long> rowCounts) {
}
