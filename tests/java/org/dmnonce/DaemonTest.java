package org.dmnonce;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.dmnonce.receiver.AndroidWapSplit;
import org.dmnonce.receiver.WapPushForwarder;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

/**
 * The Java API against a real dmnonced and a real DM test server over HTTP on
 * 127.0.0.1: the change request's whole flow (default-nonce Package #0,
 * resync session, then a normal alert), the forwarder's path, and the
 * daemon's error answers as typed exceptions. Methods run in name order:
 * the later ones need the nonces the first one resynchronised.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class DaemonTest {
    private static DaemonFixture fixture;
    private static DmNonce client;
    private static EventRecorder events;
    private static Subscription subscription;
    private static boolean resynced;

    @BeforeClass
    public static void start() throws Exception {
        fixture = DaemonFixture.start(true);
        client = DmNonce.connect(fixture.socket.toString());
        events = new EventRecorder();
        subscription = client.subscribe(events);
    }

    @AfterClass
    public static void stop() throws Exception {
        if (subscription != null) {
            subscription.close();
        }
        if (client != null) {
            client.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    public void t1_defaultNoncePushResyncsThenStoredNonceAlerts() throws Exception {
        Status before = client.status();
        AccountInfo account = before.account(DaemonFixture.SERVER_ID);
        assertNotNull("account provisioned: " + before, account);

        // The daemon holds no server nonce the server would use: the server
        // falls back to the default nonce, as after a factory reset.
        byte[] pkg0 = fixture.notify("text", false);
        PushResult first = client.push(pkg0);
        assertEquals(first.toString(), PushOutcome.RESYNC_STARTED, first.outcome());
        assertEquals(Verdict.DEFAULT_NONCE_TEXT, first.verdict());
        assertEquals(DaemonFixture.SERVER_ID, first.notification().serverId());
        int session = first.notification().sessionId();

        String finished = events.await("finished " + DaemonFixture.SERVER_ID, 60);
        assertEquals("finished " + DaemonFixture.SERVER_ID + " " + session, finished);
        assertEquals(AccountState.IN_SYNC, client.status().account(DaemonFixture.SERVER_ID).state());
        resynced = true;

        // Fresh nonces on both sides: the server's next notification, signed
        // with the nonce the daemon issued in Pkg#3, verifies normally.
        PushResult second = client.push(fixture.notify("stored", false));
        assertEquals(second.toString(), PushOutcome.ALERT, second.outcome());
        assertEquals(Verdict.STORED_NONCE, second.verdict());
        String alert = events.await("alert " + DaemonFixture.SERVER_ID, 10);
        assertTrue(alert, alert.endsWith(" STORED_NONCE v11"));
        assertTrue(client.status().counters().resyncsFinished() >= 1);
    }

    @Test
    public void t2_forwarderDeliversAnAndroidSplitWspPush() throws Exception {
        assumeTrue("needs the resync of t1", resynced);
        byte[] wsp = fixture.notify("stored", true);
        PushResult result = WapPushForwarder.forward(WapPushForwarder.ACTION_WAP_PUSH_RECEIVED,
                WapPushForwarder.MIME_TYPE, AndroidWapSplit.extras(wsp), client::push);
        assertNotNull(result);
        assertEquals(result.toString(), PushOutcome.ALERT, result.outcome());
        events.await("alert " + DaemonFixture.SERVER_ID, 10);
    }

    @Test
    public void t3_verifyReportsTheVerdictWithoutSideEffects() throws Exception {
        assumeTrue("needs the resync of t1", resynced);
        byte[] stored = fixture.notify("stored", false);
        long pushes = client.status().counters().pushes();
        for (int i = 0; i < 2; i++) {
            VerifyResult v = client.verify(stored);
            assertEquals(Verdict.STORED_NONCE, v.verdict());
            assertEquals(DaemonFixture.SERVER_ID, v.notification().serverId());
        }
        assertEquals(pushes, client.status().counters().pushes());
        byte[] wrongPassword = DaemonFixture.buildPackage0(DaemonFixture.SERVER_ID, "not-the-password", "text", 77);
        assertEquals(Verdict.REJECTED, client.verify(wrongPassword).verdict());
    }

    @Test
    public void t4_credentialsAndChalStayInsideTheDaemon() throws Exception {
        byte[] body = "<SyncML>…</SyncML>".getBytes(StandardCharsets.UTF_8);
        ClientCredential cred = client.clientCred(DaemonFixture.SERVER_ID, body);
        assertEquals(AuthScheme.MD5, cred.scheme());
        assertEquals("syncml:auth-md5", cred.credType());
        assertEquals(16, Base64.getDecoder().decode(cred.credData()).length);
        assertNull(cred.hmacHeader());
        assertFalse("toString must not show the credential", cred.toString().contains(cred.credData()));

        assertFalse(client.checkServerCred(DaemonFixture.SERVER_ID, body,
                Base64.getEncoder().encodeToString(new byte[16]), null));

        Chal chal = client.issueChal(DaemonFixture.SERVER_ID, Encoding.XML);
        assertEquals(Encoding.XML, chal.encoding());
        // Messages leave the fragment out: it carries the new server nonce.
        assertTrue("a <Chal> element", chal.fragment().startsWith("<Chal"));
        assertTrue("with a NextNonce", chal.fragment().contains("<NextNonce"));
        assertTrue("ending the element", chal.fragment().endsWith("</Chal>"));
        assertFalse(chal.toString().contains("NextNonce"));

        // A new client nonce from the server changes the next credential.
        client.acceptChal(DaemonFixture.SERVER_ID,
                Base64.getEncoder().encodeToString("jvm-fresh-client-nonce".getBytes(StandardCharsets.UTF_8)));
        assertNotEquals(cred.credData(), client.clientCred(DaemonFixture.SERVER_ID, body).credData());
    }

    @Test
    public void t5_badPushesThrowAndTheConnectionSurvives() throws Exception {
        BadPushException bad = assertThrows(BadPushException.class,
                () -> client.push(new byte[] {1, 2, 3}, PushFormat.PACKAGE0));
        assertEquals(ErrorClass.BAD_PUSH, bad.errorClass());
        assertThrows(BadPushException.class, () -> client.push(new byte[] {0x01, 0x06}, PushFormat.WSP));
        // A well-formed WSP push of another content type (MMS, 0xBE) is refused, not broken.
        byte[] mms = {0x01, 0x06, 0x01, (byte) 0xBE, 0x00, 0x01, 0x02};
        assertThrows(PushRefusedException.class, () -> client.push(mms, PushFormat.WSP));
        assertThrows(BadRequestException.class,
                () -> client.acceptChal(DaemonFixture.SERVER_ID, "*** not base64 ***"));
        assertNotNull(client.status());
    }

    @Test
    public void t6_unknownServerIds() throws Exception {
        assertThrows(UnknownAccountException.class, () -> client.clientCred("no-such-server", null));
        assertThrows(UnknownAccountException.class, () -> client.issueChal("no-such-server", null));
        // A push for an unknown server is an outcome, not an error: the
        // notification was read, it is just not for an account here.
        byte[] other = DaemonFixture.buildPackage0("no-such-server", "whatever", "text", 99);
        PushResult r = client.push(other);
        assertEquals(PushOutcome.UNKNOWN_ACCOUNT, r.outcome());
    }

    @Test
    public void t7_aRejectedDigestIsAnOutcome() throws Exception {
        byte[] forged = DaemonFixture.buildPackage0(DaemonFixture.SERVER_ID, "forged-password", "text", 4242);
        PushResult r = client.push(forged);
        assertEquals(PushOutcome.REJECTED, r.outcome());
        assertEquals(Verdict.REJECTED, r.verdict());
    }

    @Test
    public void t8_theSameBytesReachTheDaemonThroughBothPaths() throws Exception {
        assumeTrue("needs the resync of t1", resynced);
        byte[] wsp = fixture.notify("stored", true);
        WapPushForwarder.Push push = WapPushForwarder.extract(WapPushForwarder.ACTION_WAP_PUSH_RECEIVED,
                WapPushForwarder.MIME_TYPE, AndroidWapSplit.extras(wsp));
        assertArrayEquals(wsp, push.bytes());
    }

    @Test
    public void t9_hmacAndWbxmlResultsHaveTheirShapes() throws Exception {
        String serverId = "dmnonce-hmac-wbxml";
        fixture.addAccount(serverId, "http://127.0.0.1:9/dm", "hmac", "wbxml");
        AccountInfo info = client.status().account(serverId);
        assertEquals(AuthScheme.HMAC, info.authScheme());
        assertEquals(Encoding.WBXML, info.encoding());
        assertEquals(Policy.ALLOW, info.policy());

        byte[] body = {0x03, (byte) 0xA4, 0x01, 0x6A, 0x00};
        // A fresh account has no client nonce: no credential until the
        // server's Chal (or a resync) provides one.
        assertThrows(WrongStateException.class, () -> client.clientCred(serverId, body));
        client.acceptChal(serverId, Base64.getEncoder().encodeToString(new byte[] {1, 2, 3, 4, 0, 0, 7, 8}));
        ClientCredential cred = client.clientCred(serverId, body);
        assertEquals(AuthScheme.HMAC, cred.scheme());
        assertNull(cred.credData());
        assertTrue("x-syncml-hmac value", cred.hmacHeader().startsWith("algorithm=MD5, username=\""
                + DaemonFixture.CLIENT_NAME + "\", mac="));
        assertFalse(cred.toString().contains("mac="));
        assertFalse(client.checkServerCred(serverId, body, null,
                "algorithm=MD5, username=\"someone\", mac=AAAAAAAAAAAAAAAAAAAAAA=="));

        Chal chal = client.issueChal(serverId, null); // the account's encoding
        assertEquals(Encoding.WBXML, chal.encoding());
        byte[] wbxml = Base64.getDecoder().decode(chal.fragment());
        assertEquals("WBXML Chal token (0x09 | content)", 0x49, wbxml[0] & 0xff);
    }
}
