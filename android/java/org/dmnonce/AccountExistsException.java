package org.dmnonce;

/** An account with that server id is provisioned already. */
public final class AccountExistsException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public AccountExistsException(String message) {
        super(ErrorClass.ACCOUNT_EXISTS, message);
    }
}
