package org.dmnonce;

import java.util.Objects;

/**
 * A connection to dmnonced, the daemon that owns every OMA DM AuthSecret and
 * nonce of the device. A Java DM client asks it to verify notifications,
 * compute and check credentials and handle {@code Chal}s; it never sees a
 * secret or a stored nonce (docs/protocol.md).
 *
 * <p>Threads: one {@code DmNonce} may be shared; calls are serialised (one
 * request at a time on its connection) and {@link #close()} waits for a call
 * in progress. A call blocks for at most the timeout given to
 * {@link #connect(String, long)}.
 *
 * <p>Errors: every failure is a checked {@link DmNonceException} subclass
 * (see {@link ErrorClass}).
 *
 * <p>Long-lived use: dmnonced closes request connections left idle for its
 * {@code idle_timeout_ms}. After an idle spell the library checks the
 * connection with a {@code hello} and reconnects before sending, so a
 * {@code DmNonce} may be kept for the life of the process. A request is
 * never sent twice; if the daemon goes away <em>during</em> a request the
 * call throws {@link ClosedException} or {@link DaemonUnavailableException}.
 */
public final class DmNonce implements AutoCloseable {
    static {
        NativeLibrary.ensureLoaded();
    }

    /** The socket init creates for dmnonced on Android ({@code android/dmnonced.rc}). */
    public static final String ANDROID_SOCKET = "/dev/socket/dmnonced";

    /** Default time a request may wait for its answer. */
    public static final long DEFAULT_TIMEOUT_MILLIS = 10_000;

    private final String socketPath;
    private final long timeoutMillis;
    private final Object lock = new Object();
    private long handle; // guarded by lock; 0 once closed

    private DmNonce(String socketPath, long timeoutMillis, long handle) {
        this.socketPath = socketPath;
        this.timeoutMillis = timeoutMillis;
        this.handle = handle;
    }

    /** Connects with {@link #DEFAULT_TIMEOUT_MILLIS}. */
    public static DmNonce connect(String socketPath) throws DmNonceException {
        return connect(socketPath, DEFAULT_TIMEOUT_MILLIS);
    }

    /**
     * Connects to the daemon's control socket and checks that it answers.
     *
     * @throws DaemonUnavailableException no daemon listens on {@code socketPath}
     * @throws TimeoutException the daemon did not answer {@code hello} in time
     */
    public static DmNonce connect(String socketPath, long timeoutMillis) throws DmNonceException {
        Objects.requireNonNull(socketPath, "socketPath");
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeoutMillis must be positive");
        }
        long handle = nativeConnect(socketPath, timeoutMillis);
        return new DmNonce(socketPath, timeoutMillis, handle);
    }

    public String socketPath() {
        return socketPath;
    }

    /** Hands in a received push (a WSP push PDU or a bare Package #0, told apart by the daemon). */
    public PushResult push(byte[] data) throws DmNonceException {
        return push(data, PushFormat.AUTO);
    }

    public PushResult push(byte[] data, PushFormat format) throws DmNonceException {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(format, "format");
        synchronized (lock) {
            return nativePush(live(), format.wireName(), data);
        }
    }

    /**
     * Hands in SMS-DELIVER TPDUs carrying a (possibly concatenated) WAP push;
     * fragments may come in separate calls ({@link PushOutcome#FRAGMENT_PENDING}).
     *
     * @param smscIncluded whether each PDU starts with the SMSC address (Android's {@code pdus} extra does)
     */
    public PushResult pushSms(byte[][] pdus, boolean smscIncluded) throws DmNonceException {
        Objects.requireNonNull(pdus, "pdus");
        for (byte[] pdu : pdus) {
            Objects.requireNonNull(pdu, "pdus[i]");
        }
        synchronized (lock) {
            return nativePushSms(live(), pdus, smscIncluded);
        }
    }

    /** Verifies a Package #0 without side effects (no replay record, no session). */
    public VerifyResult verify(byte[] package0) throws DmNonceException {
        Objects.requireNonNull(package0, "package0");
        synchronized (lock) {
            return nativeVerify(live(), package0);
        }
    }

    /**
     * The credential for an outgoing message to {@code serverId}.
     *
     * @param body the exact HTTP body to be sent; required for hmac accounts, may be {@code null} otherwise
     */
    public ClientCredential clientCred(String serverId, byte[] body) throws DmNonceException {
        Objects.requireNonNull(serverId, "serverId");
        synchronized (lock) {
            return nativeClientCred(live(), serverId, body);
        }
    }

    /**
     * Checks the server's credential on an incoming message.
     *
     * @param body the exact HTTP body received (needed for hmac)
     * @param credData {@code SyncHdr/Cred/Data} as received (md5, basic), or {@code null}
     * @param hmacHeader the {@code x-syncml-hmac} header as received (hmac), or {@code null}
     * @return whether the credential is valid
     */
    public boolean checkServerCred(String serverId, byte[] body, String credData, String hmacHeader)
            throws DmNonceException {
        Objects.requireNonNull(serverId, "serverId");
        synchronized (lock) {
            return nativeCheckServerCred(live(), serverId, body, credData, hmacHeader);
        }
    }

    /** Stores the new client nonce from the server's {@code Chal} ({@code NextNonce} text, Base64). */
    public void acceptChal(String serverId, String nextNonceB64) throws DmNonceException {
        Objects.requireNonNull(serverId, "serverId");
        Objects.requireNonNull(nextNonceB64, "nextNonceB64");
        synchronized (lock) {
            nativeAcceptChal(live(), serverId, nextNonceB64);
        }
    }

    /**
     * Creates a new server nonce and returns the {@code Chal} carrying it.
     *
     * @param encoding the fragment's encoding, or {@code null} for the account's
     */
    public Chal issueChal(String serverId, Encoding encoding) throws DmNonceException {
        Objects.requireNonNull(serverId, "serverId");
        synchronized (lock) {
            return nativeIssueChal(live(), serverId, encoding == null ? null : encoding.wireName());
        }
    }

    public Status status() throws DmNonceException {
        synchronized (lock) {
            return nativeStatus(live());
        }
    }

    /**
     * Opens an event subscription on its own connection to the same socket.
     * Events go to {@code listener} on a library-owned thread.
     *
     * @param kinds the kinds wanted; all kinds when none are given
     */
    public Subscription subscribe(Listener listener, EventKind... kinds) throws DmNonceException {
        synchronized (lock) {
            live();
        }
        return Subscription.start(socketPath, timeoutMillis, listener, kinds);
    }

    public boolean isClosed() {
        synchronized (lock) {
            return handle == 0;
        }
    }

    /** Closes the connection; closing twice is harmless. Later calls throw {@link ClosedException}. */
    @Override
    public void close() {
        synchronized (lock) {
            long h = handle;
            handle = 0;
            if (h != 0) {
                nativeClose(h);
            }
        }
    }

    private long live() throws ClosedException {
        if (handle == 0) {
            throw new ClosedException("this DmNonce is closed; connect again");
        }
        return handle;
    }

    private static native long nativeConnect(String socketPath, long timeoutMillis) throws DmNonceException;

    private static native void nativeClose(long handle);

    private static native PushResult nativePush(long handle, String format, byte[] data) throws DmNonceException;

    private static native PushResult nativePushSms(long handle, byte[][] pdus, boolean smscIncluded)
            throws DmNonceException;

    private static native VerifyResult nativeVerify(long handle, byte[] package0) throws DmNonceException;

    private static native ClientCredential nativeClientCred(long handle, String serverId, byte[] body)
            throws DmNonceException;

    private static native boolean nativeCheckServerCred(long handle, String serverId, byte[] body, String credData,
            String hmacHeader) throws DmNonceException;

    private static native void nativeAcceptChal(long handle, String serverId, String nextNonceB64)
            throws DmNonceException;

    private static native Chal nativeIssueChal(long handle, String serverId, String encoding)
            throws DmNonceException;

    private static native Status nativeStatus(long handle) throws DmNonceException;
}
