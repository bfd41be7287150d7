package org.dmnonce;

/** The push bytes could not be decoded (truncated WSP, bad SMS, malformed Package #0). */
public final class BadPushException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public BadPushException(String message) {
        super(ErrorClass.BAD_PUSH, message);
    }
}
