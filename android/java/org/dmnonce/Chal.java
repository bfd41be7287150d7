package org.dmnonce;

/**
 * A {@code Chal} element issued by the daemon, ready to put into the
 * {@code Status} for the server's header. It carries a fresh server nonce:
 * the one nonce that ever leaves the daemon, because the server must receive
 * it. Send it; do not store or log it.
 */
public final class Chal {
    private final Encoding encoding;
    private final String fragment;

    Chal(String encoding, String fragment) {
        this.encoding = Encoding.fromWire(encoding);
        this.fragment = fragment;
    }

    public Encoding encoding() {
        return encoding;
    }

    /** XML text of {@code <Chal>…</Chal>}, or Base64 of the WBXML fragment. */
    public String fragment() {
        return fragment;
    }

    /** Leaves the fragment out: it contains the new nonce. */
    @Override
    public String toString() {
        return "Chal{encoding=" + encoding + "}";
    }
}
