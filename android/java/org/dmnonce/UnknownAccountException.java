package org.dmnonce;

/** No account with that server id is provisioned in the daemon. */
public final class UnknownAccountException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public UnknownAccountException(String message) {
        super(ErrorClass.UNKNOWN_ACCOUNT, message);
    }
}
