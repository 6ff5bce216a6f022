package dev.difydr.backup;

/**
 * One part of a backup set (the PostgreSQL databases, Redis, one file storage). The run calls {@link #preflight()}
 * of every component before anything is stored, then {@link #backup} of each in turn. A failure is a
 * {@link dev.difydr.DrException}: it fails the set, unless the component is {@link #optional()}, in which case the
 * manifest records it as missing with the message.
 */
public interface BackupComponent extends AutoCloseable {

    /** The component's kind as {@code --only} and the manifest name it: {@code postgres}, {@code redis}, {@code storage}. */
    String component();

    /** This instance within its kind: a storage's name; the kind itself where there is one instance. */
    default String name() {
        return component();
    }

    boolean optional();

    /** Proves the source can be read (reachable, credentials, tools) before anything is stored; says what it reached. */
    String preflight();

    /**
     * What {@link #preflight()} found worth an operator's attention without failing (a database Dify reads that the
     * backup lacks): logged, and recorded in the manifest and the result.
     */
    default java.util.List<String> warnings() {
        return java.util.List.of();
    }

    /** Stores this component's artifacts through {@link BackupContext#store} and returns its facts for the manifest. */
    ComponentFacts backup(BackupContext context);

    /** Releases what {@link #preflight()} holds (connections, snapshots); called once the set is done or failed. */
    @Override
    default void close() {
    }
}
