package org.dmnonce;

/** What the bytes handed to {@link DmNonce#push(byte[], PushFormat)} are. */
public enum PushFormat implements Wire.Named {
    AUTO("auto"),
    WSP("wsp"),
    PACKAGE0("package0");

    private final String wire;

    PushFormat(String wire) {
        this.wire = wire;
    }

    /** The name used by the control protocol. */
    @Override
    public String wireName() {
        return wire;
    }

    static PushFormat fromWire(String name) {
        return Wire.fromWire(PushFormat.class, name);
    }
}
