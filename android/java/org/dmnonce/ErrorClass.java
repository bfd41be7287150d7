package org.dmnonce;

/**
 * The class of a {@link DmNonceException}: one per error code of the control
 * protocol ({@code rust/control/src/error.rs}, docs/protocol.md), plus the
 * ways the connection itself can fail.
 */
public enum ErrorClass implements Wire.Named {
    /** The request was malformed (a bug in the caller or in this library). */
    BAD_REQUEST("bad_request"),
    /** The daemon speaks another protocol version. */
    UNSUPPORTED_VERSION("unsupported_version"),
    /** A request exceeded the 256 KiB line limit; the connection is closed. */
    FRAME_TOO_LARGE("frame_too_large"),
    /** This process's uid is not on the daemon's allow-list. */
    PERMISSION_DENIED("permission_denied"),
    /** No account has that server id. */
    UNKNOWN_ACCOUNT("unknown_account"),
    /** An account with that server id exists already. */
    ACCOUNT_EXISTS("account_exists"),
    /** The push bytes could not be decoded (truncated WSP, bad SMS, malformed Package #0). */
    BAD_PUSH("bad_push"),
    /** The push decoded but is not a DM notification (content type, application id). */
    PUSH_REFUSED("push_refused"),
    /** The account's policy forbids the operation. */
    POLICY_DENIED("policy_denied"),
    /** Not possible in the account's current state (e.g. during a resync). */
    WRONG_STATE("wrong_state"),
    /** The daemon's store failed; nothing was changed. */
    STORE("store"),
    /** The daemon is overloaded or shutting down; retry later. */
    BUSY("busy"),
    /** A daemon bug. */
    INTERNAL("internal"),
    /** An error code newer than this library. */
    UNKNOWN("unknown"),
    /** The daemon cannot be reached (no socket, refused, I/O failure). */
    DAEMON_UNAVAILABLE("daemon_unavailable"),
    /** The daemon did not answer in time. */
    TIMEOUT("timeout"),
    /** The daemon sent something this library cannot read. */
    PROTOCOL("protocol"),
    /** The connection is closed, by the daemon or by {@code close()}: connect again. */
    CLOSED("closed");

    private final String wire;

    ErrorClass(String wire) {
        this.wire = wire;
    }

    @Override
    public String wireName() {
        return wire;
    }

    static ErrorClass fromWire(String name) {
        for (ErrorClass c : values()) {
            if (c.wire.equals(name)) {
                return c;
            }
        }
        return UNKNOWN;
    }
}
