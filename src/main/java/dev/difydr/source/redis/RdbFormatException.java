package dev.difydr.source.redis;

import java.io.IOException;

/** An RDB or keys stream that is not what it claims: truncated, corrupt, or holding a value this reader cannot walk. */
public class RdbFormatException extends IOException {
    public RdbFormatException(String message) {
        super(message);
    }

    public RdbFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
