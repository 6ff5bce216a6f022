package dev.difydr.backup;

/** What a component's backup found in its source (server version, counts), recorded in the manifest. */
public interface ComponentFacts {
}
