package org.dmnonce;

/** This process's uid is not on the daemon's allow-list ({@code allowed_uids}). */
public final class PermissionDeniedException extends DmNonceException {
    private static final long serialVersionUID = 1L;

    public PermissionDeniedException(String message) {
        super(ErrorClass.PERMISSION_DENIED, message);
    }
}
