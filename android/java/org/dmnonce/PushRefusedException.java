package org.dmnonce;

/** The push decoded but is not a DM notification for this device (content type, application id). */
public final class PushRefusedException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public PushRefusedException(String message) {
        super(ErrorClass.PUSH_REFUSED, message);
    }
}
