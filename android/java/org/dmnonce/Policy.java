package org.dmnonce;

/** Whether an account allows the default-nonce fallback of the nonce resynchronisation change request. */
public enum Policy implements Wire.Named {
    ALLOW("allow"),
    DENY("deny");

    private final String wire;

    Policy(String wire) {
        this.wire = wire;
    }

    /** The name used by the control protocol. */
    @Override
    public String wireName() {
        return wire;
    }

    static Policy fromWire(String name) {
        return Wire.fromWire(Policy.class, name);
    }
}
