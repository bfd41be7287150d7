package org.dmnonce;

/** The daemon's counters since it started. */
public final class Counters {
    private final long pushes;
    private final long alerts;
    private final long fallbacks;
    private final long rejected;
    private final long replays;
    private final long refused;
    private final long resyncsFinished;
    private final long resyncsFailed;

    Counters(long pushes, long alerts, long fallbacks, long rejected, long replays, long refused,
            long resyncsFinished, long resyncsFailed) {
        this.pushes = pushes;
        this.alerts = alerts;
        this.fallbacks = fallbacks;
        this.rejected = rejected;
        this.replays = replays;
        this.refused = refused;
        this.resyncsFinished = resyncsFinished;
        this.resyncsFailed = resyncsFailed;
    }

    public long pushes() {
        return pushes;
    }

    public long alerts() {
        return alerts;
    }

    /** Notifications accepted with the default nonce. */
    public long fallbacks() {
        return fallbacks;
    }

    public long rejected() {
        return rejected;
    }

    public long replays() {
        return replays;
    }

    public long refused() {
        return refused;
    }

    public long resyncsFinished() {
        return resyncsFinished;
    }

    public long resyncsFailed() {
        return resyncsFailed;
    }

    @Override
    public String toString() {
        return "Counters{pushes=" + pushes + ", alerts=" + alerts + ", fallbacks=" + fallbacks + ", rejected="
                + rejected + ", replays=" + replays + ", refused=" + refused + ", resyncsFinished="
                + resyncsFinished + ", resyncsFailed=" + resyncsFailed + "}";
    }
}
