package org.dmnonce;

import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

/** A daemon that dies under a connected client and a subscription. */
public class DaemonGoneTest {
    @Test
    public void killedDaemonGivesExceptionsAndADisconnectEventNotACrash() throws Exception {
        try (DaemonFixture fixture = DaemonFixture.start(false)) {
            EventRecorder events = new EventRecorder();
            try (DmNonce client = DmNonce.connect(fixture.socket.toString(), 3000);
                    Subscription sub = client.subscribe(events)) {
                assertNotNull(client.status());
                fixture.killDaemon();

                String gone = events.await("disconnected", 10);
                assertTrue(gone, gone.equals("disconnected CLOSED") || gone.equals("disconnected DAEMON_UNAVAILABLE"));

                DmNonceException e = assertThrows(DmNonceException.class, client::status);
                assertTrue(e.toString(), e instanceof ClosedException || e instanceof DaemonUnavailableException);
                // The connection stays dead; the object stays usable for close().
                assertThrows(DmNonceException.class, client::status);
                assertThrows(DaemonUnavailableException.class, () -> DmNonce.connect(fixture.socket.toString()));
            }
        }
    }
}
