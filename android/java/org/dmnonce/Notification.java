package org.dmnonce;

/** The decoded, non-secret fields of a Package #0 (OMA DM 1.2 Notification §6). */
public final class Notification {
    private final int version;
    private final int uiMode;
    private final int initiator;
    private final int sessionId;
    private final String serverId;
    private final String vendorHex;

    Notification(int version, int uiMode, int initiator, int sessionId, String serverId, String vendorHex) {
        this.version = version;
        this.uiMode = uiMode;
        this.initiator = initiator;
        this.sessionId = sessionId;
        this.serverId = serverId;
        this.vendorHex = vendorHex;
    }

    /** Notification version (11 = DM 1.2). */
    public int version() {
        return version;
    }

    /** 0 not specified, 1 background, 2 informative, 3 user interaction. */
    public int uiMode() {
        return uiMode;
    }

    /** The initiator bit as sent; its meaning differs between implementations. */
    public int initiator() {
        return initiator;
    }

    /** Session id (0..65535) to put into Pkg#1's {@code SessionID}. */
    public int sessionId() {
        return sessionId;
    }

    public String serverId() {
        return serverId;
    }

    /** Vendor-specific data, lower-case hex (empty when none). */
    public String vendorHex() {
        return vendorHex;
    }

    @Override
    public String toString() {
        return "Notification{serverId=" + serverId + ", sessionId=" + sessionId + ", version=" + version
                + ", uiMode=" + uiMode + ", initiator=" + initiator + ", vendorHex=" + vendorHex + "}";
    }
}
