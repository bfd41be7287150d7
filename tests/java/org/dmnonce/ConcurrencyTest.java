package org.dmnonce;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.Test;

/**
 * One {@code DmNonce} shared by many threads against the real daemon, and
 * closed while they run: every call either succeeds or throws
 * {@link ClosedException}. A handle freed under a running call would crash
 * the JVM rather than fail this test politely.
 */
public class ConcurrencyTest {
    @Test
    public void sharedClientClosedUnderLoadGivesResultsOrClosedExceptionOnly() throws Exception {
        try (DaemonFixture fixture = DaemonFixture.start(false)) {
            DmNonce client = DmNonce.connect(fixture.socket.toString(), 5000);
            int threads = 8;
            CountDownLatch started = new CountDownLatch(threads);
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger closed = new AtomicInteger();
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread w = new Thread(() -> {
                    started.countDown();
                    for (int i = 0; i < 400; i++) {
                        try {
                            assertEquals(1, client.status().protocol());
                            ok.incrementAndGet();
                        } catch (ClosedException e) {
                            closed.incrementAndGet();
                        } catch (Throwable e) {
                            unexpected.compareAndSet(null, e);
                        }
                    }
                }, "status-caller-" + t);
                workers.add(w);
                w.start();
            }
            started.await();
            while (ok.get() < 200 && unexpected.get() == null) {
                Thread.sleep(1);
            }
            client.close();
            for (Thread w : workers) {
                w.join();
            }
            if (unexpected.get() != null) {
                throw new AssertionError("unexpected failure", unexpected.get());
            }
            assertTrue("calls before close: " + ok.get(), ok.get() >= 200);
            assertTrue("calls after close: " + closed.get(), closed.get() > 0);
            assertEquals(threads * 400, ok.get() + closed.get());
        }
    }
}
