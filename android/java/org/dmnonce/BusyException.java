package org.dmnonce;

/** The daemon is overloaded or shutting down; retry later. */
public final class BusyException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public BusyException(String message) {
        super(ErrorClass.BUSY, message);
    }
}
