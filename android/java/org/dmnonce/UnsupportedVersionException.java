package org.dmnonce;

/** The daemon speaks another version of the control protocol. */
public final class UnsupportedVersionException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public UnsupportedVersionException(String message) {
        super(ErrorClass.UNSUPPORTED_VERSION, message);
    }
}
