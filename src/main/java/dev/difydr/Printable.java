package dev.difydr;

/** A command's typed result: text for people, and (serialised by Jackson) one JSON document for {@code --json}. */
public interface Printable {
    String toText();
}
