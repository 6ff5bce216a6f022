package dev.difydr.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Which databases a PostgreSQL backup covers ({@code postgres.databases}): a fixed list of {@link DatabaseSpec}s, or
 * the word {@value #FROM_DIFY}, meaning the databases Dify's Deployments read when the backup runs, found through the
 * {@code kubernetes} section. In YAML it is a list or a word; any other word is kept as written ({@code word}) so
 * that the loader can say precisely what is wrong with it.
 */
@JsonDeserialize(using = DatabaseSelection.Reader.class)
public record DatabaseSelection(String word, List<DatabaseSpec> listed) {
    public static final String FROM_DIFY = "fromDify";

    /** {@code dify} (required) and {@code dify_plugin} (optional: Dify before 1.0 has no plugin database). */
    public static final DatabaseSelection DEFAULT =
            of(List.of(new DatabaseSpec("dify", false), new DatabaseSpec("dify_plugin", true)));

    public DatabaseSelection {
        // not List.copyOf: a null entry (an empty list item in YAML) is reported by the loader, not thrown here
        listed = listed == null ? null : Collections.unmodifiableList(new ArrayList<>(listed));
    }

    public static DatabaseSelection of(List<DatabaseSpec> databases) {
        return new DatabaseSelection(null, databases);
    }

    public static DatabaseSelection fromDify() {
        return new DatabaseSelection(FROM_DIFY, null);
    }

    public boolean isFromDify() {
        return FROM_DIFY.equals(word);
    }

    /**
     * The databases to back up. A backup resolves {@code fromDify} into a list first
     * ({@link PostgresConfig#withDatabases}), so asking a {@code fromDify} selection is a programming error.
     */
    public List<DatabaseSpec> list() {
        if (listed == null) {
            throw new IllegalStateException("postgres.databases is '" + word + "', not a list: resolve it before use");
        }
        return listed;
    }

    /** Reads a YAML list as the list, and a scalar as a word; a mapping is a binding problem. */
    static final class Reader extends StdDeserializer<DatabaseSelection> {
        Reader() {
            super(DatabaseSelection.class);
        }

        @Override
        public DatabaseSelection deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() == JsonToken.START_ARRAY) {
                List<DatabaseSpec> list = ctxt.readValue(p, ctxt.getTypeFactory().constructCollectionType(List.class, DatabaseSpec.class));
                return of(list);
            }
            if (p.currentToken().isScalarValue()) {
                return new DatabaseSelection(p.getText(), null);
            }
            return (DatabaseSelection) ctxt.reportInputMismatch(this, "expected " + FROM_DIFY + " or a list of databases (e.g. [dify, dify_plugin])");
        }
    }
}
