package dev.difydr.store;

import dev.difydr.DrException;
import dev.difydr.Failure;

/** The one shape of a failed store operation: what was done, to which key, in which store, and why. */
public final class StoreErrors {
    private StoreErrors() {
    }

    static DrException failed(ObjectStore store, String operation, String key, Throwable cause) {
        if (cause instanceof DrException dr) {
            return dr;
        }
        return failed(store, operation, key, cause.getMessage(), cause);
    }

    /**
     * For stores whose client exceptions carry more than an operator should see (raw server responses that may echo
     * signed headers): the store passes its own {@code reason} and the cause it is safe to chain, or null.
     */
    public static DrException failed(ObjectStore store, String operation, String key, String reason, Throwable cause) {
        return new DrException(Failure.STORE, operation + " of " + key + " in " + store.describe() + " failed: " + reason, cause);
    }
}
