package org.dmnonce;

/**
 * Base of every error this library reports. Each {@link ErrorClass} has its
 * own subclass, so callers can catch exactly what they can act on; {@link
 * #errorClass()} gives the same information for a {@code switch}.
 *
 * <p>Messages never contain an AuthSecret or a nonce.
 */
public abstract class DmNonceException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ErrorClass errorClass;

    protected DmNonceException(ErrorClass errorClass, String message) {
        super(message);
        this.errorClass = errorClass;
    }

    public final ErrorClass errorClass() {
        return errorClass;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " [" + errorClass.wireName() + "]: " + getMessage();
    }

    /** The exception of the given class (used where native code cannot throw: events). */
    static DmNonceException of(ErrorClass errorClass, String message) {
        switch (errorClass) {
            case BAD_REQUEST: return new BadRequestException(message);
            case UNSUPPORTED_VERSION: return new UnsupportedVersionException(message);
            case FRAME_TOO_LARGE: return new FrameTooLargeException(message);
            case PERMISSION_DENIED: return new PermissionDeniedException(message);
            case UNKNOWN_ACCOUNT: return new UnknownAccountException(message);
            case ACCOUNT_EXISTS: return new AccountExistsException(message);
            case BAD_PUSH: return new BadPushException(message);
            case PUSH_REFUSED: return new PushRefusedException(message);
            case POLICY_DENIED: return new PolicyDeniedException(message);
            case WRONG_STATE: return new WrongStateException(message);
            case STORE: return new StoreException(message);
            case BUSY: return new BusyException(message);
            case INTERNAL: return new InternalException(message);
            case DAEMON_UNAVAILABLE: return new DaemonUnavailableException(message);
            case TIMEOUT: return new TimeoutException(message);
            case PROTOCOL: return new ProtocolException(message);
            case CLOSED: return new ClosedException(message);
            case UNKNOWN:
            default:
                return new UnknownErrorException(message);
        }
    }
}
