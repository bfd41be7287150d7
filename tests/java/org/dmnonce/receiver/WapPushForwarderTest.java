package org.dmnonce.receiver;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.dmnonce.BadPushException;
import org.dmnonce.PushFormat;
import org.junit.Test;

/** The receiver's logic on the host: which broadcasts are forwarded, and as what bytes. */
public class WapPushForwarderTest {
    private static final String RECEIVED = WapPushForwarder.ACTION_WAP_PUSH_RECEIVED;
    private static final String MIME = WapPushForwarder.MIME_TYPE;

    /** Package #0 vector "public-stored" of rust/proto/tests/vectors/package0.json. */
    static final byte[] PACKAGE0 = hex(
            "cc6a83acbc1dabd527db6216ff2839ad02d000000001020e646d2e6578616d706c652e6e6574");

    /**
     * A WSP push as ofono or a modem delivers it: TID 0x2A, Push, 3 header
     * octets (content type 0xC4 = application/vnd.syncml.notification,
     * X-Wap-Application-Id 0xAF 0x87 = x-wap-application:syncml.dm), data.
     */
    static byte[] wspPush(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x2A);
        out.write(0x06);
        out.write(0x03);
        out.write(0xC4);
        out.write(0xAF);
        out.write(0x87);
        out.write(body, 0, body.length);
        return out.toByteArray();
    }

    static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    /** A sink that records what it was given. */
    static final class RecordingSink implements WapPushForwarder.Sink {
        final List<byte[]> bytes = new ArrayList<>();
        final List<PushFormat> formats = new ArrayList<>();

        @Override
        public org.dmnonce.PushResult push(byte[] data, PushFormat format) {
            bytes.add(data.clone());
            formats.add(format);
            return null;
        }
    }

    @Test
    public void androidSplitIsReassembledByteForByte() {
        byte[] pdu = wspPush(PACKAGE0);
        WapPushForwarder.Push push = WapPushForwarder.extract(RECEIVED, MIME, AndroidWapSplit.extras(pdu));
        assertNotNull(push);
        assertEquals(PushFormat.WSP, push.format());
        assertArrayEquals(pdu, push.bytes());
    }

    @Test
    public void longHeadersGetAMultiOctetUintvar() {
        byte[] header = new byte[200];
        header[0] = (byte) 0xC4;
        byte[] pdu = WapPushForwarder.wspPdu(1, 0x06, header, PACKAGE0);
        // 200 = 0b1_1001000 -> 0x81 0x48
        assertEquals((byte) 0x81, pdu[2]);
        assertEquals((byte) 0x48, pdu[3]);
        assertArrayEquals(pdu, WapPushForwarder.extract(RECEIVED, MIME, AndroidWapSplit.extras(pdu)).bytes());
    }

    @Test
    public void uintvarMatchesWsp() {
        int[] values = {0, 1, 127, 128, 16383, 16384, Integer.MAX_VALUE};
        String[] expected = {"00", "01", "7f", "8100", "ff7f", "818000", "87ffffff7f"};
        for (int i = 0; i < values.length; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            WapPushForwarder.writeUintvar(out, values[i]);
            assertArrayEquals("uintvar " + values[i], hex(expected[i]), out.toByteArray());
        }
        assertThrows(IllegalArgumentException.class,
                () -> WapPushForwarder.writeUintvar(new ByteArrayOutputStream(), -1));
    }

    @Test
    public void withoutHeaderTheDataGoesAsBarePackage0() {
        Map<String, Object> extras = new HashMap<>();
        extras.put("data", PACKAGE0);
        WapPushForwarder.Push push = WapPushForwarder.extract(WapPushForwarder.ACTION_WAP_PUSH_DELIVER, MIME, extras);
        assertEquals(PushFormat.PACKAGE0, push.format());
        assertArrayEquals(PACKAGE0, push.bytes());
    }

    @Test
    public void missingTidAndPduTypeDefaultToAPush() {
        Map<String, Object> extras = AndroidWapSplit.extras(wspPush(PACKAGE0));
        extras.remove("transactionId");
        extras.remove("pduType");
        byte[] bytes = WapPushForwarder.extract(RECEIVED, MIME, extras).bytes();
        assertEquals(0x00, bytes[0]);
        assertEquals(0x06, bytes[1]);
    }

    @Test
    public void mimeTypeIsMatchedWithoutCaseOrParameters() {
        Map<String, Object> extras = AndroidWapSplit.extras(wspPush(PACKAGE0));
        assertNotNull(WapPushForwarder.extract(RECEIVED, "Application/VND.SyncML.Notification", extras));
        assertNotNull(WapPushForwarder.extract(RECEIVED, MIME + "; charset=utf-8", extras));
    }

    @Test
    public void otherBroadcastsAreNotForwarded() throws Exception {
        Map<String, Object> good = AndroidWapSplit.extras(wspPush(PACKAGE0));
        Map<String, Object> noData = new HashMap<>(good);
        noData.remove("data");
        Map<String, Object> emptyData = new HashMap<>(good);
        emptyData.put("data", new byte[0]);
        Map<String, Object> wrongType = new HashMap<>(good);
        wrongType.put("data", "not bytes");
        RecordingSink sink = new RecordingSink();
        assertNull(WapPushForwarder.forward("android.intent.action.BOOT_COMPLETED", MIME, good, sink));
        assertNull(WapPushForwarder.forward(null, MIME, good, sink));
        assertNull(WapPushForwarder.forward(RECEIVED, "application/vnd.wap.mms-message", good, sink));
        assertNull(WapPushForwarder.forward(RECEIVED, null, good, sink));
        assertNull(WapPushForwarder.forward(RECEIVED, MIME, noData, sink));
        assertNull(WapPushForwarder.forward(RECEIVED, MIME, emptyData, sink));
        assertNull(WapPushForwarder.forward(RECEIVED, MIME, wrongType, sink));
        assertNull(WapPushForwarder.forward(RECEIVED, MIME, null, sink));
        assertTrue("nothing may reach the daemon", sink.bytes.isEmpty());
    }

    @Test
    public void forwardHandsTheRebuiltPduToTheSinkOnce() throws Exception {
        byte[] pdu = wspPush(PACKAGE0);
        RecordingSink sink = new RecordingSink();
        WapPushForwarder.forward(RECEIVED, MIME, AndroidWapSplit.extras(pdu), sink);
        assertEquals(1, sink.bytes.size());
        assertArrayEquals(pdu, sink.bytes.get(0));
        assertSame(PushFormat.WSP, sink.formats.get(0));
    }

    @Test
    public void sinkErrorsReachTheCaller() {
        WapPushForwarder.Sink failing = (data, format) -> {
            throw new BadPushException("truncated");
        };
        assertThrows(BadPushException.class, () -> WapPushForwarder.forward(RECEIVED, MIME,
                AndroidWapSplit.extras(wspPush(PACKAGE0)), failing));
    }

    @Test
    public void extractedBytesAreACopy() {
        Map<String, Object> extras = new HashMap<>();
        byte[] data = PACKAGE0.clone();
        extras.put("data", data);
        WapPushForwarder.Push push = WapPushForwarder.extract(RECEIVED, MIME, extras);
        data[0] ^= 0x55;
        assertArrayEquals(PACKAGE0, push.bytes());
    }
}
