package org.dmnonce;

/** Authentication scheme of an account (DMAcc AAuthType). */
public enum AuthScheme implements Wire.Named {
    MD5("md5"),
    HMAC("hmac"),
    BASIC("basic");

    private final String wire;

    AuthScheme(String wire) {
        this.wire = wire;
    }

    /** The name used by the control protocol. */
    @Override
    public String wireName() {
        return wire;
    }

    static AuthScheme fromWire(String name) {
        return Wire.fromWire(AuthScheme.class, name);
    }
}
