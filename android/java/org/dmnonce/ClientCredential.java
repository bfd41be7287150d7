package org.dmnonce;

/**
 * The credential for an outgoing message, computed by the daemon (which keeps
 * the AuthSecret and the client nonce). For {@code md5} and {@code basic}:
 * put {@link #credType()} into {@code SyncHdr/Cred/Meta/Type} and
 * {@link #credData()} into {@code SyncHdr/Cred/Data}; for {@code hmac}: send
 * {@link #hmacHeader()} as the {@code x-syncml-hmac} HTTP header.
 */
public final class ClientCredential {
    private final AuthScheme scheme;
    private final String credType;
    private final String credData;
    private final String hmacHeader;

    ClientCredential(String scheme, String credType, String credData, String hmacHeader) {
        this.scheme = AuthScheme.fromWire(scheme);
        this.credType = credType;
        this.credData = credData;
        this.hmacHeader = hmacHeader;
    }

    public AuthScheme scheme() {
        return scheme;
    }

    /** e.g. {@code syncml:auth-md5}; {@code null} for hmac. */
    public String credType() {
        return credType;
    }

    /** Base64 text for {@code Cred/Data}; {@code null} for hmac. */
    public String credData() {
        return credData;
    }

    /** Value of the {@code x-syncml-hmac} header; {@code null} unless hmac. */
    public String hmacHeader() {
        return hmacHeader;
    }

    /** Leaves out the credential itself: it authenticates this session's messages. */
    @Override
    public String toString() {
        return "ClientCredential{scheme=" + scheme + ", credType=" + credType + "}";
    }
}
