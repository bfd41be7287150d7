package org.dmnonce;

/** Nonce synchronisation state of an account. */
public enum AccountState implements Wire.Named {
    IN_SYNC("in-sync"),
    NEEDS_RESYNC("needs-resync"),
    RESYNCING("resyncing");

    private final String wire;

    AccountState(String wire) {
        this.wire = wire;
    }

    /** The name used by the control protocol. */
    @Override
    public String wireName() {
        return wire;
    }

    static AccountState fromWire(String name) {
        return Wire.fromWire(AccountState.class, name);
    }
}
