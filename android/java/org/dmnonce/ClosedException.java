package org.dmnonce;

/** The connection is closed, either by {@code close()} or by the daemon: connect again. */
public final class ClosedException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public ClosedException(String message) {
        super(ErrorClass.CLOSED, message);
    }
}
