package org.dmnonce;

import java.util.Objects;

/**
 * A live event subscription: its own connection to dmnonced and its own
 * thread delivering events to a {@link Listener}. Close it when done; an
 * unclosed subscription keeps its (daemon) thread and connection until the
 * process ends.
 */
public final class Subscription implements AutoCloseable {
    static {
        NativeLibrary.ensureLoaded();
    }

    private final Listener listener;
    private final Object lock = new Object();
    private long handle; // guarded by lock; 0 once closed

    private Subscription(Listener listener) {
        this.listener = listener;
    }

    static Subscription start(String socketPath, long timeoutMillis, Listener listener, EventKind[] kinds)
            throws DmNonceException {
        Objects.requireNonNull(listener, "listener");
        String[] names = new String[kinds.length];
        for (int i = 0; i < kinds.length; i++) {
            names[i] = Objects.requireNonNull(kinds[i], "kinds[i]").wireName();
        }
        Subscription s = new Subscription(listener);
        synchronized (s.lock) {
            s.handle = nativeStart(s, socketPath, names, timeoutMillis);
        }
        return s;
    }

    public boolean isClosed() {
        synchronized (lock) {
            return handle == 0;
        }
    }

    /**
     * Stops the event thread and closes the connection. Returns once the
     * thread has stopped (within about 100 ms, plus a callback in progress),
     * except when called from a callback, which returns at once. Closing
     * twice is harmless. Do not call it while holding a lock that your
     * listener may be waiting for: it waits for the callback to return.
     */
    @Override
    public void close() {
        long h;
        synchronized (lock) {
            h = handle;
            handle = 0;
        }
        // Outside the lock: stopping waits for the event thread, whose
        // callback may itself be calling close().
        if (h != 0) {
            nativeStop(h);
        }
    }

    // ---- called by the event thread (libdmnonce_jni, events.rs) ----------

    private void onNativeAlert(int version, int uiMode, int initiator, int sessionId, String serverId,
            String vendorHex, String verdict) {
        try {
            listener.onAlert(new Notification(version, uiMode, initiator, sessionId, serverId, vendorHex),
                    Verdict.fromWire(verdict));
        } catch (RuntimeException e) {
            listenerFailed("onAlert", e);
        }
    }

    private void onNativeResync(String kind, String serverId, int sessionId, String reason) {
        try {
            switch (EventKind.fromWire(kind)) {
                case RESYNC_STARTED:
                    listener.onResyncStarted(serverId, sessionId);
                    break;
                case RESYNC_FINISHED:
                    listener.onResyncFinished(serverId, sessionId);
                    break;
                case RESYNC_FAILED:
                    listener.onResyncFailed(serverId, sessionId, reason);
                    break;
                default:
                    throw new IllegalStateException("not a resync event: " + kind);
            }
        } catch (RuntimeException e) {
            listenerFailed(kind, e);
        }
    }

    private void onNativePushRejected(String serverId, String reason) {
        try {
            listener.onPushRejected(serverId, reason);
        } catch (RuntimeException e) {
            listenerFailed("onPushRejected", e);
        }
    }

    private void onNativeUnknownEvent(String kind) {
        try {
            listener.onUnknownEvent(kind);
        } catch (RuntimeException e) {
            listenerFailed("onUnknownEvent", e);
        }
    }

    private void onNativeDisconnected(String errorClass, String message) {
        try {
            listener.onDisconnected(DmNonceException.of(ErrorClass.fromWire(errorClass), message));
        } catch (RuntimeException e) {
            listenerFailed("onDisconnected", e);
        }
    }

    private static void listenerFailed(String callback, RuntimeException e) {
        // Not the thread's uncaught-exception handler: on Android that ends
        // the process, and one bad callback must not stop later events.
        System.err.println("dmnonce: Listener." + callback + " threw; continuing");
        e.printStackTrace();
    }

    private static native long nativeStart(Subscription target, String socketPath, String[] kinds,
            long timeoutMillis) throws DmNonceException;

    private static native void nativeStop(long handle);
}
