package org.dmnonce;

/** An error code this library does not know (a newer daemon). */
public final class UnknownErrorException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public UnknownErrorException(String message) {
        super(ErrorClass.UNKNOWN, message);
    }
}
