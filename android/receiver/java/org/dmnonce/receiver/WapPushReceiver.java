package org.dmnonce.receiver;

import android.content.BroadcastReceiver;
import android.content.Context;
import android.content.Intent;
import android.os.Bundle;
import android.util.Log;
import java.util.HashMap;
import java.util.Map;
import org.dmnonce.DmNonce;
import org.dmnonce.DmNonceException;
import org.dmnonce.PushResult;

/**
 * Forwards OMA DM notifications ({@code application/vnd.syncml.notification}
 * WAP pushes) to dmnonced. The decision and the byte handling live in
 * {@link WapPushForwarder}; this class only adapts the {@link Intent} and
 * keeps the broadcast alive ({@link #goAsync()}) while the daemon answers,
 * off the main thread.
 */
public final class WapPushReceiver extends BroadcastReceiver {
    private static final String TAG = "dmnonce";

    @Override
    public void onReceive(Context context, Intent intent) {
        Map<String, Object> extras = new HashMap<>();
        Bundle bundle = intent.getExtras();
        if (bundle != null) {
            for (String key : bundle.keySet()) {
                extras.put(key, bundle.get(key));
            }
        }
        final WapPushForwarder.Push push = WapPushForwarder.extract(intent.getAction(), intent.getType(), extras);
        if (push == null) {
            Log.d(TAG, "ignoring broadcast " + intent.getAction() + " type " + intent.getType());
            return;
        }
        final PendingResult pending = goAsync();
        new Thread(() -> {
            try (DmNonce daemon = DmNonce.connect(DmNonce.ANDROID_SOCKET)) {
                PushResult result = daemon.push(push.bytes(), push.format());
                Log.i(TAG, "notification forwarded: " + result.outcome());
            } catch (DmNonceException e) {
                // The push is lost to this device unless the server repeats
                // it; the daemon's own counters and audit log say more.
                Log.w(TAG, "dmnonced did not take the notification: " + e);
            } finally {
                pending.finish();
            }
        }, "dmnonce-wap-push").start();
    }
}
