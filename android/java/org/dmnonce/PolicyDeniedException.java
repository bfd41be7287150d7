package org.dmnonce;

/** The account's policy forbids the operation. */
public final class PolicyDeniedException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public PolicyDeniedException(String message) {
        super(ErrorClass.POLICY_DENIED, message);
    }
}
