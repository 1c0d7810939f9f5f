package io.nfqueue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** close()'s half of the handshake waits for a thread inside the verdict step however long it takes. */
@Timeout(30)
class VerdictSubmittersTest {
    @Test
    void awaitNoneReturnsAtOnceWithNobodyInside() {
        VerdictSubmitters s = new VerdictSubmitters();
        long start = System.nanoTime();
        s.awaitNone();
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1));
    }

    /** Longer than the 2 s deadline of the first design, after which a claimed verdict could go unsent. */
    @Test
    void awaitNoneWaitsForAThreadStalledInsideForThreeSeconds() throws Exception {
        VerdictSubmitters s = new VerdictSubmitters();
        CountDownLatch inside = new CountDownLatch(1);
        Thread stalled = new Thread(() -> {
            s.enter();
            inside.countDown();
            try {
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                s.exit();
            }
        });
        stalled.start();
        assertTrue(inside.await(5, TimeUnit.SECONDS));
        long start = System.nanoTime();
        s.awaitNone();
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(!stalled.isAlive() || waited >= 2900, "returned only once the thread left: " + waited + " ms");
        assertTrue(waited >= 2500, "waited for it: " + waited + " ms");
        stalled.join(5000);
    }
}
