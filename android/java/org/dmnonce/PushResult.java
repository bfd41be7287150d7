package org.dmnonce;

/** What dmnonced did with a push. */
public final class PushResult {
    private final PushOutcome outcome;
    private final Verdict verdict;
    private final Notification notification;

    PushResult(String outcome, String verdict, Notification notification) {
        this.outcome = PushOutcome.fromWire(outcome);
        this.verdict = Wire.fromWireOrNull(Verdict.class, verdict);
        this.notification = notification;
    }

    public PushOutcome outcome() {
        return outcome;
    }

    /** How the Package #0 verified; {@code null} when it was not checked (e.g. a pending SMS fragment). */
    public Verdict verdict() {
        return verdict;
    }

    /** The decoded notification; {@code null} when the push did not get that far. */
    public Notification notification() {
        return notification;
    }

    @Override
    public String toString() {
        return "PushResult{outcome=" + outcome + ", verdict=" + verdict + ", notification=" + notification + "}";
    }
}
