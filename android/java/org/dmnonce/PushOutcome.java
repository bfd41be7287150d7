package org.dmnonce;

/** What dmnonced did with a push (docs/protocol.md, outcome of {@code push}). */
public enum PushOutcome implements Wire.Named {
    ALERT("alert"),
    RESYNC_STARTED("resync_started"),
    REJECTED("rejected"),
    REPLAY("replay"),
    RATE_LIMITED("rate_limited"),
    POLICY_DENIED("policy_denied"),
    UNKNOWN_ACCOUNT("unknown_account"),
    BUSY("busy"),
    FRAGMENT_PENDING("fragment_pending"),
    /**
     * An outcome this library does not know (a newer dmnonced): the push was
     * taken, whether it verified is not known here; treat it as not verified.
     */
    UNKNOWN("unknown");

    private final String wire;

    PushOutcome(String wire) {
        this.wire = wire;
    }

    /** The name used by the control protocol. */
    @Override
    public String wireName() {
        return wire;
    }

    static PushOutcome fromWire(String name) {
        return Wire.fromWire(PushOutcome.class, name);
    }
}
