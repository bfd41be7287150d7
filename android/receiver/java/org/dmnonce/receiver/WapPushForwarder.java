package org.dmnonce.receiver;

import java.io.ByteArrayOutputStream;
import java.util.Locale;
import java.util.Map;
import org.dmnonce.DmNonceException;
import org.dmnonce.PushFormat;
import org.dmnonce.PushResult;

/**
 * The logic of {@link WapPushReceiver}, in plain Java so that it runs (and is
 * tested) on a host JVM: decide whether a WAP-push broadcast is a DM
 * notification, rebuild what the telephony stack received, and hand it to
 * dmnonced.
 *
 * <p>Android's {@code WapPushOverSms} splits the WSP push PDU into extras:
 * {@code transactionId} (TID), {@code pduType}, {@code header} (the
 * HeadersLen bytes: content type and headers such as X-Wap-Application-Id)
 * and {@code data} (the body, here the Package #0). When {@code header} is
 * present the forwarder reassembles the PDU byte for byte and sends it as
 * {@link PushFormat#WSP}, so the daemon checks content type and application
 * id with the same decoder it uses for ofono; without it, {@code data} goes
 * as a bare {@link PushFormat#PACKAGE0}. All verification stays in the daemon.
 */
public final class WapPushForwarder {
    public static final String ACTION_WAP_PUSH_RECEIVED = "android.provider.Telephony.WAP_PUSH_RECEIVED";
    public static final String ACTION_WAP_PUSH_DELIVER = "android.provider.Telephony.WAP_PUSH_DELIVER";
    public static final String MIME_TYPE = "application/vnd.syncml.notification";

    public static final String EXTRA_DATA = "data";
    public static final String EXTRA_HEADER = "header";
    public static final String EXTRA_TRANSACTION_ID = "transactionId";
    public static final String EXTRA_PDU_TYPE = "pduType";

    /** WSP PDU type Push (WAP-230-WSP Table 34); used when the extra is missing. */
    static final int WSP_PDU_PUSH = 0x06;

    /** Where a push goes: {@code DmNonce::push} in production. */
    public interface Sink {
        PushResult push(byte[] data, PushFormat format) throws DmNonceException;
    }

    /** What to hand to the daemon. */
    public static final class Push {
        private final byte[] bytes;
        private final PushFormat format;

        Push(byte[] bytes, PushFormat format) {
            this.bytes = bytes;
            this.format = format;
        }

        public byte[] bytes() {
            return bytes.clone();
        }

        public PushFormat format() {
            return format;
        }
    }

    private WapPushForwarder() {}

    /**
     * The push carried by a broadcast, or {@code null} when the broadcast is
     * not a DM notification we can forward (other action or MIME type, no
     * {@code data}).
     *
     * @param extras the intent's extras by name (values as Android puts them: byte[], Integer)
     */
    public static Push extract(String action, String mimeType, Map<String, ?> extras) {
        if (!ACTION_WAP_PUSH_RECEIVED.equals(action) && !ACTION_WAP_PUSH_DELIVER.equals(action)) {
            return null;
        }
        if (!isDmNotification(mimeType) || extras == null) {
            return null;
        }
        byte[] data = bytesExtra(extras, EXTRA_DATA);
        if (data == null || data.length == 0) {
            return null;
        }
        byte[] header = bytesExtra(extras, EXTRA_HEADER);
        if (header == null || header.length == 0) {
            return new Push(data.clone(), PushFormat.PACKAGE0);
        }
        int tid = intExtra(extras, EXTRA_TRANSACTION_ID, 0);
        int pduType = intExtra(extras, EXTRA_PDU_TYPE, WSP_PDU_PUSH);
        return new Push(wspPdu(tid, pduType, header, data), PushFormat.WSP);
    }

    /**
     * Extracts and forwards. Returns {@code null} (and sends nothing) when
     * the broadcast is not for us.
     */
    public static PushResult forward(String action, String mimeType, Map<String, ?> extras, Sink sink)
            throws DmNonceException {
        Push push = extract(action, mimeType, extras);
        if (push == null) {
            return null;
        }
        return sink.push(push.bytes, push.format);
    }

    /** Case-insensitive, parameters ignored (a media type may carry {@code ;charset=…}). */
    static boolean isDmNotification(String mimeType) {
        if (mimeType == null) {
            return false;
        }
        int semicolon = mimeType.indexOf(';');
        String base = semicolon < 0 ? mimeType : mimeType.substring(0, semicolon);
        return base.trim().toLowerCase(Locale.ROOT).equals(MIME_TYPE);
    }

    /** Connectionless WSP push PDU: TID, PDU type, HeadersLen (uintvar), headers, data. */
    static byte[] wspPdu(int tid, int pduType, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(header.length + data.length + 7);
        out.write(tid & 0xff);
        out.write(pduType & 0xff);
        writeUintvar(out, header.length);
        out.write(header, 0, header.length);
        out.write(data, 0, data.length);
        return out.toByteArray();
    }

    /** WAP-230-WSP §8.1.2: 7 bits per octet, most significant first, continuation bit 0x80. */
    static void writeUintvar(ByteArrayOutputStream out, int value) {
        if (value < 0) {
            throw new IllegalArgumentException("uintvar must not be negative");
        }
        int shift = 28;
        while (shift > 0 && (value >>> shift) == 0) {
            shift -= 7;
        }
        for (; shift > 0; shift -= 7) {
            out.write(((value >>> shift) & 0x7f) | 0x80);
        }
        out.write(value & 0x7f);
    }

    private static byte[] bytesExtra(Map<String, ?> extras, String name) {
        Object value = extras.get(name);
        return value instanceof byte[] ? (byte[]) value : null;
    }

    private static int intExtra(Map<String, ?> extras, String name, int fallback) {
        Object value = extras.get(name);
        return value instanceof Integer ? (Integer) value : fallback;
    }
}
