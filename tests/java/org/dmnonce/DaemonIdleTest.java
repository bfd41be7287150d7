package org.dmnonce;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;

import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * dmnonced closes request connections that stay silent for its idle timeout
 * ({@code [control] idle_timeout_ms}). A DM client keeps its {@code DmNonce}
 * for the life of the process, so the library must notice the closed
 * connection and reconnect before sending, rather than fail the next call.
 */
public class DaemonIdleTest {
    @Test
    public void aSubscriptionIsNotCutForIdleness() throws Exception {
        try (DaemonFixture fixture = DaemonFixture.start(false, "[control]\nidle_timeout_ms = 300\n");
                DmNonce client = DmNonce.connect(fixture.socket.toString(), 3000)) {
            EventRecorder events = new EventRecorder();
            try (Subscription sub = client.subscribe(events)) {
                // An event stream is quiet by nature; the daemon's idle
                // timeout is for request connections only.
                assertNull(events.events.poll(1500, TimeUnit.MILLISECONDS));
                assertFalse(sub.isClosed());
            }
        }
    }

    @Test
    public void aConnectionTheDaemonClosedForIdlenessIsReopenedTransparently() throws Exception {
        try (DaemonFixture fixture = DaemonFixture.start(false, "[control]\nidle_timeout_ms = 300\n");
                DmNonce client = DmNonce.connect(fixture.socket.toString(), 3000)) {
            assertNotNull(client.status());
            for (int i = 0; i < 2; i++) {
                Thread.sleep(1500); // well past the daemon's idle timeout
                Status s = client.status();
                assertEquals(1, s.protocol());
            }
        }
    }
}
