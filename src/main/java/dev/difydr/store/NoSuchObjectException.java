package dev.difydr.store;

import dev.difydr.DrException;
import dev.difydr.Failure;

public class NoSuchObjectException extends DrException {
    public NoSuchObjectException(String store, String key) {
        super(Failure.STORE, "object " + key + " not found in " + store);
    }
}
