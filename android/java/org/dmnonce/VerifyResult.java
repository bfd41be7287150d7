package org.dmnonce;

/** The result of {@link DmNonce#verify(byte[])}: a verdict without side effects. */
public final class VerifyResult {
    private final Verdict verdict;
    private final Notification notification;

    VerifyResult(String verdict, Notification notification) {
        this.verdict = Verdict.fromWire(verdict);
        this.notification = notification;
    }

    public Verdict verdict() {
        return verdict;
    }

    public Notification notification() {
        return notification;
    }

    @Override
    public String toString() {
        return "VerifyResult{verdict=" + verdict + ", notification=" + notification + "}";
    }
}
