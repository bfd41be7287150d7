package org.dmnonce;

/** dmnonced did not answer within the connection's timeout. Not {@code java.util.concurrent.TimeoutException}. */
public final class TimeoutException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public TimeoutException(String message) {
        super(ErrorClass.TIMEOUT, message);
    }
}
