package org.dmnonce;

/** The operation is not possible in the account's current state (for example during a resync). */
public final class WrongStateException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public WrongStateException(String message) {
        super(ErrorClass.WRONG_STATE, message);
    }
}
