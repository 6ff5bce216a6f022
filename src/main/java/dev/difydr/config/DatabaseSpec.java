package dev.difydr.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/** One database to back up: written either as its name or as {@code {name: x, optional: true}}. */
public record DatabaseSpec(String name, boolean optional) {

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public DatabaseSpec(@JsonProperty("name") String name, @JsonProperty("optional") Boolean optional) {
        this(name, optional != null && optional);
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static DatabaseSpec named(String name) {
        return new DatabaseSpec(name, false);
    }
}
