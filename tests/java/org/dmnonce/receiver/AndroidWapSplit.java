package org.dmnonce.receiver;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * What Android's telephony stack (WapPushOverSms) puts into the
 * WAP_PUSH_RECEIVED intent for a connectionless WSP push PDU: the TID and
 * PDU type as ints, {@code header} = the HeadersLen bytes that follow the
 * uintvar (content type and headers), {@code data} = the rest. Written from
 * that description so the forwarder is tested against the split it will
 * meet on a device.
 */
public final class AndroidWapSplit {
    private AndroidWapSplit() {}

    public static Map<String, Object> extras(byte[] pdu) {
        int index = 0;
        int tid = pdu[index++] & 0xff;
        int pduType = pdu[index++] & 0xff;
        long headerLength = 0;
        int octet;
        do {
            octet = pdu[index++] & 0xff;
            headerLength = (headerLength << 7) | (octet & 0x7f);
        } while ((octet & 0x80) != 0);
        int headerStart = index;
        int dataStart = headerStart + (int) headerLength;
        Map<String, Object> extras = new HashMap<>();
        extras.put(WapPushForwarder.EXTRA_TRANSACTION_ID, tid);
        extras.put(WapPushForwarder.EXTRA_PDU_TYPE, pduType);
        extras.put(WapPushForwarder.EXTRA_HEADER, Arrays.copyOfRange(pdu, headerStart, dataStart));
        extras.put(WapPushForwarder.EXTRA_DATA, Arrays.copyOfRange(pdu, dataStart, pdu.length));
        return extras;
    }
}
