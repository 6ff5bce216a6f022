package dev.difydr.source.redis;

/**
 * A key whose name or value is larger than a reader may hold ({@link KeySizeLimit}): the stream may be intact, but
 * this key cannot be restored from it in this process.
 */
public final class KeyTooLargeException extends RdbFormatException {
    KeyTooLargeException(String message) {
        super(message);
    }
}
