package dev.difydr.store;

import dev.difydr.DrException;
import dev.difydr.Failure;

final class StoreErrors {
    private StoreErrors() {
    }

    static DrException failed(ObjectStore store, String operation, String key, Throwable cause) {
        if (cause instanceof DrException dr) {
            return dr;
        }
        return new DrException(Failure.STORE, operation + " of " + key + " in " + store.describe() + " failed: " + cause.getMessage(), cause);
    }
}
