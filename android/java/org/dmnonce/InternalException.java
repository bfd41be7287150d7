package org.dmnonce;

/** A bug inside the daemon; the message says what. */
public final class InternalException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public InternalException(String message) {
        super(ErrorClass.INTERNAL, message);
    }
}
