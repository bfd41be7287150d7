package org.dmnonce;

/** Kinds of events a {@link Subscription} can ask for. */
public enum EventKind implements Wire.Named {
    ALERT("alert"),
    RESYNC_STARTED("resync-started"),
    RESYNC_FINISHED("resync-finished"),
    RESYNC_FAILED("resync-failed"),
    PUSH_REJECTED("push-rejected");

    private final String wire;

    EventKind(String wire) {
        this.wire = wire;
    }

    /** The name used by the control protocol. */
    @Override
    public String wireName() {
        return wire;
    }

    static EventKind fromWire(String name) {
        return Wire.fromWire(EventKind.class, name);
    }
}
