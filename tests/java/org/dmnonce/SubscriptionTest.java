package org.dmnonce;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * The event thread against a scripted peer: delivery of every event kind,
 * a throwing listener, closing from a callback, and the peer hanging up.
 */
public class SubscriptionTest {
    private static final String ALERT = "{\"v\":1,\"event\":{\"kind\":\"alert\",\"notification\":{\"version\":11,"
            + "\"ui_mode\":1,\"initiator\":0,\"session_id\":4660,\"server_id\":\"com.example.dm\","
            + "\"vendor_hex\":\"\"},\"verdict\":\"stored-nonce\"}}";
    private static final String STARTED =
            "{\"v\":1,\"event\":{\"kind\":\"resync-started\",\"server_id\":\"com.example.dm\",\"session_id\":7}}";
    private static final String FINISHED =
            "{\"v\":1,\"event\":{\"kind\":\"resync-finished\",\"server_id\":\"com.example.dm\",\"session_id\":7}}";
    private static final String FAILED = "{\"v\":1,\"event\":{\"kind\":\"resync-failed\","
            + "\"server_id\":\"com.example.dm\",\"session_id\":8,\"reason\":\"server answered 500\"}}";
    private static final String REJECTED =
            "{\"v\":1,\"event\":{\"kind\":\"push-rejected\",\"reason\":\"digest mismatch\"}}";

    /** A peer that answers hello, acks the subscription, then runs {@code then}. */
    private static SocketPeer subscribedPeer(SocketPeer.Script then) throws Exception {
        return new SocketPeer((in, out) -> {
            SocketPeer.hello(in, out);
            String subscribe = in.readLine();
            // The request/response connection of the DmNonce ends here
            // (null when the client closes it); subscriptions go on.
            if (subscribe != null && subscribe.contains("\"op\":\"subscribe\"")) {
                SocketPeer.ok(out, subscribe, "{}");
                then.run(in, out);
            }
        });
    }

    @Test
    public void everyEventKindReachesTheListenerOnTheLibraryThread() throws Exception {
        try (SocketPeer peer = subscribedPeer((in, out) -> {
            for (String e : new String[] {ALERT, STARTED, FINISHED, FAILED, REJECTED}) {
                SocketPeer.send(out, e);
            }
            in.readLine(); // hold the connection until the client closes
        })) {
            EventRecorder r = new EventRecorder();
            try (DmNonce client = DmNonce.connect(peer.path(), 2000);
                    Subscription sub = client.subscribe(r)) {
                assertEquals("alert com.example.dm 4660 STORED_NONCE v11", r.next());
                assertEquals("started com.example.dm 7", r.next());
                assertEquals("finished com.example.dm 7", r.next());
                assertEquals("failed com.example.dm 8 server answered 500", r.next());
                assertEquals("rejected null digest mismatch", r.next());
                Thread t = r.threads.take();
                assertEquals("dmnonce-events", t.getName());
                assertTrue("event thread must be a daemon thread", t.isDaemon());
                assertNotEquals(Thread.currentThread(), t);
            }
            // Closed by us: no onDisconnected.
            assertNull(r.events.poll(300, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    public void kindsAreSentToTheDaemon() throws Exception {
        BlockingQueue<String> requests = new LinkedBlockingQueue<>();
        try (SocketPeer peer = new SocketPeer((in, out) -> {
            SocketPeer.hello(in, out);
            String subscribe = in.readLine();
            if (subscribe != null && subscribe.contains("\"op\":\"subscribe\"")) {
                requests.add(subscribe);
                SocketPeer.ok(out, subscribe, "{}");
                in.readLine();
            }
        })) {
            try (DmNonce client = DmNonce.connect(peer.path(), 2000);
                    Subscription sub = client.subscribe(new Listener() {}, EventKind.RESYNC_FINISHED,
                            EventKind.ALERT)) {
                String line = requests.poll(5, TimeUnit.SECONDS);
                assertNotNull(line);
                assertTrue(line, line.contains("\"kinds\":[\"resync-finished\",\"alert\"]"));
            }
        }
    }

    @Test
    public void aThrowingListenerDoesNotStopLaterEvents() throws Exception {
        try (SocketPeer peer = subscribedPeer((in, out) -> {
            SocketPeer.send(out, STARTED);
            SocketPeer.send(out, FINISHED);
            in.readLine();
        })) {
            EventRecorder r = new EventRecorder() {
                @Override
                public void onResyncStarted(String serverId, int sessionId) {
                    throw new IllegalStateException("listener bug (expected by the test)");
                }
            };
            try (DmNonce client = DmNonce.connect(peer.path(), 2000);
                    Subscription sub = client.subscribe(r)) {
                assertEquals("finished com.example.dm 7", r.next());
            }
        }
    }

    @Test
    public void daemonHangingUpIsReportedOnce() throws Exception {
        try (SocketPeer peer = subscribedPeer((in, out) -> SocketPeer.send(out, FINISHED))) {
            EventRecorder r = new EventRecorder();
            try (DmNonce client = DmNonce.connect(peer.path(), 2000);
                    Subscription sub = client.subscribe(r)) {
                assertEquals("finished com.example.dm 7", r.next());
                assertEquals("disconnected CLOSED", r.next());
                assertNull(r.events.poll(300, TimeUnit.MILLISECONDS));
            }
        }
    }

    @Test
    public void listenerMayCloseItsOwnSubscription() throws Exception {
        try (SocketPeer peer = subscribedPeer((in, out) -> {
            SocketPeer.send(out, STARTED);
            SocketPeer.send(out, FINISHED);
            in.readLine();
        })) {
            CountDownLatch closed = new CountDownLatch(1);
            Subscription[] holder = new Subscription[1];
            EventRecorder r = new EventRecorder() {
                @Override
                public void onResyncStarted(String serverId, int sessionId) {
                    synchronized (holder) {
                        holder[0].close();
                    }
                    closed.countDown();
                }
            };
            try (DmNonce client = DmNonce.connect(peer.path(), 2000)) {
                synchronized (holder) {
                    holder[0] = client.subscribe(r);
                }
                assertTrue(closed.await(5, TimeUnit.SECONDS));
                assertTrue(holder[0].isClosed());
                holder[0].close();
                // The thread stopped after the callback: the second event is not delivered.
                assertNull(r.events.poll(500, TimeUnit.MILLISECONDS));
            }
        }
    }

    @Test
    public void subscribingToAnAbsentDaemonThrowsInTheCaller() throws Exception {
        SocketPeer peer = new SocketPeer((in, out) -> SocketPeer.hello(in, out));
        DmNonce client = DmNonce.connect(peer.path(), 2000);
        peer.close(); // the socket file is gone now
        try {
            assertThrows(DaemonUnavailableException.class, () -> client.subscribe(new Listener() {}));
        } finally {
            client.close();
        }
    }

    @Test
    public void manySubscriptionsComeAndGo() throws Exception {
        // Attach/detach and global references under churn; -Xcheck:jni
        // reports any leak or misuse in the script's output check.
        try (SocketPeer peer = subscribedPeer((in, out) -> {
            SocketPeer.send(out, FINISHED);
            in.readLine();
        })) {
            try (DmNonce client = DmNonce.connect(peer.path(), 2000)) {
                for (int i = 0; i < 20; i++) {
                    EventRecorder r = new EventRecorder();
                    try (Subscription sub = client.subscribe(r)) {
                        assertEquals("finished com.example.dm 7", r.next());
                    }
                }
            }
        }
    }
}
