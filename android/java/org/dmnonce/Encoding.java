package org.dmnonce;

/** SyncML DM message encoding. */
public enum Encoding implements Wire.Named {
    XML("xml"),
    WBXML("wbxml");

    private final String wire;

    Encoding(String wire) {
        this.wire = wire;
    }

    /** The name used by the control protocol. */
    @Override
    public String wireName() {
        return wire;
    }

    static Encoding fromWire(String name) {
        return Wire.fromWire(Encoding.class, name);
    }
}
