package org.dmnonce;

/** How a Package #0 verified: with the stored server nonce, with one of the two readings of the default nonce {@code 0x00000000}, or not at all. */
public enum Verdict implements Wire.Named {
    STORED_NONCE("stored-nonce"),
    DEFAULT_NONCE_TEXT("default-nonce-text"),
    DEFAULT_NONCE_ZERO("default-nonce-zero"),
    REJECTED("rejected");

    private final String wire;

    Verdict(String wire) {
        this.wire = wire;
    }

    /** The name used by the control protocol. */
    @Override
    public String wireName() {
        return wire;
    }

    static Verdict fromWire(String name) {
        return Wire.fromWire(Verdict.class, name);
    }
}
