package org.dmnonce;

/** dmnonced sent something this library cannot read (version skew). Not {@code java.net.ProtocolException}. */
public final class ProtocolException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(ErrorClass.PROTOCOL, message);
    }
}
