package io.nfqueue.reactor.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demand shared by a subscription's readers: what is claimed never exceeds what was
 * requested (no prefetch), and unbounded demand is never consumed (§3.17).
 */
@Timeout(30)
class DemandPoolTest {

    @Test
    void claimTakesAtMostWhatWasRequested() {
        DemandPool pool = new DemandPool();
        pool.add(5);
        assertEquals(3, pool.claim(3));
        assertEquals(2, pool.outstanding());
        assertEquals(2, pool.claim(32), "a reader wanting a batch of 32 gets only the 2 still requested");
        assertEquals(0, pool.outstanding());
        assertEquals(0, pool.claim(32), "no demand: nothing may be read");
    }

    @Test
    void settleSaysWhenItMadeDemandAvailableAgain() {
        DemandPool pool = new DemandPool();
        pool.add(4);
        int claimed = pool.claim(4);
        assertTrue(pool.settle(claimed, 1), "3 given back to an empty pool: readers may be waiting");
        assertEquals(3, pool.outstanding());
        claimed = pool.claim(2);
        assertFalse(pool.settle(claimed, 0), "1 was still there: nobody can have found none");
        assertFalse(pool.settle(pool.claim(3), 3), "all used: nothing given back");
        pool.add(Long.MAX_VALUE);
        assertFalse(pool.settle(pool.claim(8), 0), "unbounded demand never runs out");
    }

    @Test
    void nothingIsClaimedForANonPositiveWant() {
        DemandPool pool = new DemandPool();
        pool.add(5);
        assertEquals(0, pool.claim(0));
        assertEquals(0, pool.claim(-1));
        assertEquals(5, pool.outstanding(), "a refused claim takes nothing");
    }

    @Test
    void giveBackReturnsWhatWasNotRead() {
        DemandPool pool = new DemandPool();
        pool.add(10);
        int claimed = pool.claim(8);
        int read = 3; // the socket held only 3
        pool.giveBack(claimed - read);
        assertEquals(7, pool.outstanding());
        pool.giveBack(0);
        pool.giveBack(-4); // nothing to give back: must not take demand away
        assertEquals(7, pool.outstanding());
    }

    @Test
    void requestsAccumulate() {
        DemandPool pool = new DemandPool();
        pool.add(1);
        pool.add(2);
        pool.add(3);
        assertEquals(6, pool.outstanding());
    }

    @Test
    void unboundedDemandIsNeverConsumed() {
        DemandPool pool = new DemandPool();
        pool.add(Long.MAX_VALUE);
        for (int i = 0; i < 1000; i++) {
            assertEquals(32, pool.claim(32));
        }
        pool.giveBack(7);
        pool.add(5);
        assertEquals(Long.MAX_VALUE, pool.outstanding());
    }

    @Test
    void accumulatingPastLongMaxValueCapsAtUnbounded() {
        DemandPool pool = new DemandPool();
        pool.add(Long.MAX_VALUE / 2);
        pool.add(Long.MAX_VALUE / 2); // Long.MAX_VALUE - 1: still bounded
        assertEquals(Long.MAX_VALUE - 1, pool.outstanding());
        pool.add(1);
        assertEquals(Long.MAX_VALUE, pool.outstanding());

        DemandPool overflowing = new DemandPool();
        overflowing.add(Long.MAX_VALUE - 1);
        overflowing.add(Long.MAX_VALUE - 1); // would wrap negative
        assertEquals(Long.MAX_VALUE, overflowing.outstanding(), "overflow caps at unbounded, never wraps");
    }

    @Test
    void giveBackAfterPartialClaimOfHugeDemandDoesNotWrap() {
        DemandPool pool = new DemandPool();
        pool.add(Long.MAX_VALUE - 1);
        int claimed = pool.claim(32);
        pool.add(100); // a request while the reader holds its claim
        pool.giveBack(claimed);
        assertEquals(Long.MAX_VALUE, pool.outstanding(), "capped, not negative");
    }

    /** Readers of several queues claim at once: together they never take more than was requested. */
    @Test
    void concurrentClaimsNeverExceedTheRequestedTotal() throws Exception {
        for (int round = 0; round < 50; round++) {
            DemandPool pool = new DemandPool();
            int threads = 4;
            long requested = 10_000;
            AtomicLong taken = new AtomicLong();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread r = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 2000; i++) {
                        int k = pool.claim(7);
                        int used = k / 2; // read fewer than claimed, give the rest back
                        taken.addAndGet(used);
                        pool.giveBack(k - used);
                    }
                });
                readers.add(r);
                r.start();
            }
            // Requests arrive in small pieces while readers claim.
            start.countDown();
            for (int i = 0; i < requested / 10; i++) {
                pool.add(10);
            }
            for (Thread r : readers) {
                r.join(10_000);
            }
            assertEquals(requested, taken.get() + pool.outstanding(),
                    "every unit of demand is either used once or still outstanding");
        }
    }
}
