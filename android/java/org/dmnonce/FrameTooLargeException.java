package org.dmnonce;

/** A request exceeded the protocol's 256 KiB line limit; the connection is closed. */
public final class FrameTooLargeException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public FrameTooLargeException(String message) {
        super(ErrorClass.FRAME_TOO_LARGE, message);
    }
}
