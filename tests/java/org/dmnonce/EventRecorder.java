package org.dmnonce;

import static org.junit.Assert.assertNotNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Records callbacks as strings, with the thread they ran on. */
class EventRecorder implements Listener {
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    final BlockingQueue<Thread> threads = new LinkedBlockingQueue<>();

    private void record(String s) {
        threads.add(Thread.currentThread());
        events.add(s);
    }

    @Override
    public void onAlert(Notification n, Verdict v) {
        record("alert " + n.serverId() + " " + n.sessionId() + " " + v + " v" + n.version());
    }

    @Override
    public void onResyncStarted(String serverId, int sessionId) {
        record("started " + serverId + " " + sessionId);
    }

    @Override
    public void onResyncFinished(String serverId, int sessionId) {
        record("finished " + serverId + " " + sessionId);
    }

    @Override
    public void onResyncFailed(String serverId, int sessionId, String reason) {
        record("failed " + serverId + " " + sessionId + " " + reason);
    }

    @Override
    public void onPushRejected(String serverId, String reason) {
        record("rejected " + serverId + " " + reason);
    }

    @Override
    public void onDisconnected(DmNonceException cause) {
        record("disconnected " + cause.errorClass());
    }

    String next() throws InterruptedException {
        return next(5);
    }

    String next(int seconds) throws InterruptedException {
        String s = events.poll(seconds, TimeUnit.SECONDS);
        assertNotNull("no event within " + seconds + " s", s);
        return s;
    }

    /** The first event starting with {@code prefix}, skipping others; fails on timeout. */
    String await(String prefix, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        List<String> seen = new ArrayList<>();
        while (true) {
            long left = deadline - System.nanoTime();
            String s = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
            if (s == null) {
                throw new AssertionError("no \"" + prefix + "\" event within " + seconds + " s; saw " + seen);
            }
            if (s.startsWith(prefix)) {
                return s;
            }
            seen.add(s);
        }
    }
}
