package org.dmnonce;

/**
 * Receives dmnonced's events. Every method has an empty default, so
 * implement only what you need.
 *
 * <p>Threads: methods are called one at a time on the subscription's own
 * thread ({@code dmnonce-events}, a daemon thread owned by the library),
 * never on the thread that subscribed. Return quickly; hand longer work (a DM
 * session) to your own executor. A {@link RuntimeException} thrown here is
 * printed to {@code System.err} and does not stop later events. You may call
 * {@link Subscription#close()} from a callback.
 */
public interface Listener {
    /** A notification verified with the stored nonce: run your management session. */
    default void onAlert(Notification notification, Verdict verdict) {}

    /** A default-nonce notification was accepted; the daemon runs the resync session. */
    default void onResyncStarted(String serverId, int sessionId) {}

    /** The nonces of {@code serverId} are fresh again: run your management session. */
    default void onResyncFinished(String serverId, int sessionId) {}

    /** The resync session failed; {@code reason} is meant for logs. */
    default void onResyncFailed(String serverId, int sessionId, String reason) {}

    /** A push was dropped; {@code serverId} is {@code null} when it could not be read. */
    default void onPushRejected(String serverId, String reason) {}

    /**
     * An event of a kind this library does not know, from a newer dmnonced;
     * {@code kind} is its wire name. Ignoring it is safe: no event carries a
     * duty for a client that does not know it.
     */
    default void onUnknownEvent(String kind) {}

    /**
     * The event connection failed (typically {@link DaemonUnavailableException}
     * or {@link ClosedException} when the daemon stopped). No more events
     * follow; subscribe again once the daemon is back. Not called after
     * {@link Subscription#close()}.
     */
    default void onDisconnected(DmNonceException cause) {}
}
