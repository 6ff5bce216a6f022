package dev.difydr.repository;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * What a logical dump of one database contained, taken in the dump's own snapshot. {@code roles} says what the
 * database was to Dify when it was backed up, as read from Dify's Deployments: {@code main} (api, worker, beat read
 * it) and/or {@code plugin} (the plugin daemon reads it); absent when unknown (no kubernetes section, or Kubernetes
 * could not be read, or no Deployment read it).
 */
public record DatabaseFacts(
        String name,
        String alembicVersion,
        long sizeBytes,
        Map<String, Long> rowCounts,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> roles) {

    public DatabaseFacts(String name, String alembicVersion, long sizeBytes, Map<String, Long> rowCounts) {
        this(name, alembicVersion, sizeBytes, rowCounts, null);
    }

    public DatabaseFacts withRoles(List<String> roles) {
        return new DatabaseFacts(name, alembicVersion, sizeBytes, rowCounts, roles == null || roles.isEmpty() ? null : List.copyOf(roles));
    }
}
