package org.dmnonce;

/** dmnonced cannot be reached: no socket, connection refused, or an I/O failure on the connection. */
public final class DaemonUnavailableException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public DaemonUnavailableException(String message) {
        super(ErrorClass.DAEMON_UNAVAILABLE, message);
    }
}
