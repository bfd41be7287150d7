package org.dmnonce;

/** The daemon's persistent store failed; nothing was changed. */
public final class StoreException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public StoreException(String message) {
        super(ErrorClass.STORE, message);
    }
}
