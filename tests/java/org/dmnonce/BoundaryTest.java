package org.dmnonce;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * The JNI boundary without a daemon: panics, every error class, missing
 * classes, local references, handles used after close. Each test ends with
 * the JVM alive and able to make further native calls.
 */
public class BoundaryTest {
    @Test
    public void panicInNativeCodeBecomesAssertionErrorAndTheJvmCarriesOn() {
        AssertionError e = assertThrows(AssertionError.class, NativeTesting::panic);
        assertTrue(e.getMessage(), e.getMessage().contains("provoked by NativeTesting.panic"));
        // Again, to show the boundary is reusable after a panic.
        assertThrows(AssertionError.class, NativeTesting::panic);
    }

    @Test
    public void everyErrorClassIsThrownAsItsOwnException() {
        for (ErrorClass c : ErrorClass.values()) {
            DmNonceException e = assertThrows(c.name(), DmNonceException.class,
                    () -> NativeTesting.throwFor(c.wireName(), "message for " + c.wireName()));
            assertEquals(c, e.errorClass());
            assertSame(DmNonceException.of(c, "x").getClass(), e.getClass());
            if (c != ErrorClass.DAEMON_UNAVAILABLE && c != ErrorClass.TIMEOUT && c != ErrorClass.CLOSED) {
                assertTrue(e.getMessage(), e.getMessage().contains("message for " + c.wireName()));
            }
        }
    }

    @Test
    public void ioFailureAndUseAfterCloseHaveTheirClasses() {
        assertThrows(DaemonUnavailableException.class, () -> NativeTesting.throwFor("io", "broken pipe"));
        assertThrows(ClosedException.class, () -> NativeTesting.throwFor("use_after_close", ""));
    }

    @Test
    public void exceptionClassesAreDistinctPerErrorClass() {
        Set<Class<?>> seen = new HashSet<>();
        for (ErrorClass c : ErrorClass.values()) {
            assertTrue(c + " shares a class", seen.add(DmNonceException.of(c, "m").getClass()));
        }
    }

    @Test
    public void missingExceptionClassFallsBackToAssertionError() {
        AssertionError e = assertThrows(AssertionError.class, NativeTesting::throwMissingClass);
        assertTrue(e.getMessage(), e.getMessage().contains("org/dmnonce/NoSuchException"));
    }

    @Test
    public void largeResultArraysUseLocalFrames() {
        // 8 local references per element: without a frame per element this
        // overruns the local reference capacity that -Xcheck:jni watches.
        AccountInfo[] infos = NativeTesting.accountInfos(5000);
        assertEquals(5000, infos.length);
        assertEquals("server-4999", infos[4999].serverId());
        assertEquals(AuthScheme.HMAC, infos[0].authScheme());
        assertEquals(Encoding.WBXML, infos[0].encoding());
        assertEquals(Policy.DENY, infos[0].policy());
        assertEquals(AccountState.NEEDS_RESYNC, infos[0].state());
    }

    @Test
    public void absentDaemonIsDaemonUnavailable() throws Exception {
        Path dir = Files.createTempDirectory("dmnonce-absent");
        try {
            DaemonUnavailableException e = assertThrows(DaemonUnavailableException.class,
                    () -> DmNonce.connect(dir.resolve("nobody.sock").toString()));
            assertEquals(ErrorClass.DAEMON_UNAVAILABLE, e.errorClass());
            assertThrows(DaemonUnavailableException.class,
                    () -> DmNonce.connect(dir.resolve("nobody.sock").toString(), 1000).close());
        } finally {
            Files.delete(dir);
        }
    }

    @Test
    public void staleSocketFileIsDaemonUnavailable() throws Exception {
        // A socket file left behind by a daemon that died: it exists, but
        // nobody listens (connect gets ECONNREFUSED).
        Path dir = Files.createTempDirectory("dmnonce-stale");
        Path stale = dir.resolve("stale.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(stale));
        }
        try {
            assertTrue(Files.exists(stale));
            assertThrows(DaemonUnavailableException.class, () -> DmNonce.connect(stale.toString()));
        } finally {
            Files.deleteIfExists(stale);
            Files.delete(dir);
        }
    }

    @Test
    public void silentDaemonTimesOut() throws Exception {
        try (SocketPeer peer = new SocketPeer((in, out) -> {
            in.readLine();
            Thread.sleep(3000);
        })) {
            long start = System.nanoTime();
            assertThrows(TimeoutException.class, () -> DmNonce.connect(peer.path(), 200));
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue("took " + ms + " ms", ms < 2500);
        }
    }

    @Test
    public void garbageFromTheDaemonIsProtocolException() throws Exception {
        try (SocketPeer peer = new SocketPeer((in, out) -> {
            in.readLine();
            SocketPeer.send(out, "this is not JSON");
        })) {
            assertThrows(ProtocolException.class, () -> DmNonce.connect(peer.path(), 2000));
        }
    }

    @Test
    public void daemonHangingUpMidRequestIsClosedException() throws Exception {
        try (SocketPeer peer = new SocketPeer((in, out) -> {
            SocketPeer.hello(in, out);
            in.readLine(); // the push; then hang up without answering
        })) {
            try (DmNonce client = DmNonce.connect(peer.path(), 2000)) {
                assertThrows(ClosedException.class, () -> client.push(new byte[] {1, 2, 3}));
            }
        }
    }

    @Test
    public void daemonErrorsArriveAsTypedExceptionsWithTheirMessage() throws Exception {
        try (SocketPeer peer = new SocketPeer((in, out) -> {
            SocketPeer.hello(in, out);
            SocketPeer.error(out, in.readLine(), "bad_push", "truncated WSP header");
            SocketPeer.error(out, in.readLine(), "unknown_account", "no account dm.example");
            SocketPeer.error(out, in.readLine(), "quota_exceeded", "from a newer daemon");
            in.readLine();
        })) {
            try (DmNonce client = DmNonce.connect(peer.path(), 2000)) {
                BadPushException bad = assertThrows(BadPushException.class, () -> client.push(new byte[] {0}));
                assertEquals("truncated WSP header", bad.getMessage());
                assertThrows(UnknownAccountException.class, () -> client.clientCred("dm.example", null));
                UnknownErrorException unknown = assertThrows(UnknownErrorException.class, client::status);
                assertEquals(ErrorClass.UNKNOWN, unknown.errorClass());
            }
        }
    }

    @Test
    public void closedClientThrowsClosedExceptionAndDoubleCloseIsHarmless() throws Exception {
        try (SocketPeer peer = new SocketPeer((in, out) -> {
            SocketPeer.hello(in, out);
            in.readLine();
        })) {
            DmNonce client = DmNonce.connect(peer.path(), 2000);
            assertFalse(client.isClosed());
            client.close();
            client.close();
            assertTrue(client.isClosed());
            assertThrows(ClosedException.class, () -> client.push(new byte[] {1}));
            assertThrows(ClosedException.class, () -> client.verify(new byte[] {1}));
            assertThrows(ClosedException.class, client::status);
            assertThrows(ClosedException.class, () -> client.issueChal("s", null));
            assertThrows(ClosedException.class, () -> client.subscribe(new Listener() {}));
        }
    }

    @Test
    public void nullArgumentsAreRejectedBeforeNativeCode() throws Exception {
        try (SocketPeer peer = new SocketPeer((in, out) -> {
            SocketPeer.hello(in, out);
            in.readLine();
        })) {
            try (DmNonce client = DmNonce.connect(peer.path(), 2000)) {
                assertThrows(NullPointerException.class, () -> client.push(null));
                assertThrows(NullPointerException.class, () -> client.pushSms(new byte[][] {null}, true));
                assertThrows(NullPointerException.class, () -> client.acceptChal("s", null));
            }
        }
    }

    @Test
    public void pushSmsSendsEveryPduInOrderWithTheSmscFlag() throws Exception {
        BlockingQueue<String> requests = new LinkedBlockingQueue<>();
        try (SocketPeer peer = new SocketPeer((in, out) -> {
            SocketPeer.hello(in, out);
            String push = in.readLine();
            requests.add(push);
            SocketPeer.ok(out, push, "{\"outcome\":\"fragment_pending\"}");
            in.readLine();
        })) {
            // 300 fragments: each is read inside its own local frame.
            byte[][] pdus = new byte[300][];
            StringBuilder expected = new StringBuilder("\"sms_pdus_b64\":[");
            for (int i = 0; i < pdus.length; i++) {
                pdus[i] = new byte[] {0x40, (byte) i, (byte) (i >> 8)};
                expected.append(i == 0 ? "" : ",").append('"')
                        .append(Base64.getEncoder().encodeToString(pdus[i])).append('"');
            }
            expected.append(']');
            try (DmNonce client = DmNonce.connect(peer.path(), 2000)) {
                PushResult r = client.pushSms(pdus, true);
                assertEquals(PushOutcome.FRAGMENT_PENDING, r.outcome());
                assertNull(r.verdict());
                assertNull(r.notification());
            }
            String line = requests.poll(5, TimeUnit.SECONDS);
            assertTrue(line, line.contains("\"format\":\"sms\""));
            assertTrue(line, line.contains("\"smsc_included\":true"));
            assertTrue(line, line.contains(expected));
        }
    }
}
