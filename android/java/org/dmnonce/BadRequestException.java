package org.dmnonce;

/** The daemon could not read the request: a malformed field or an unknown operation. */
public final class BadRequestException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public BadRequestException(String message) {
        super(ErrorClass.BAD_REQUEST, message);
    }
}
