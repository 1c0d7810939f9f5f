package io.nfqueue;

import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The blocking loop over {@link FakeTransport}: how run() and poll() end, and what they hand back. */
@Timeout(30)
class NetfilterQueueTest {
    private static final int Q = 11;
    private final NativeConstants k = NativeConstants.get();
    private final FakeTransport fake = new FakeTransport();
    private final NetfilterQueue queue = NetfilterQueue.of(BoundQueue.open(QueueOptions.queue(Q).copyRange(256), fake));

    @AfterEach
    void tearDown() {
        queue.close();
        assertEquals(List.of(), fake.violations(), "Transport contract");
    }

    /** Runs run() on a new thread; the future ends with what run() threw, or null. */
    private CompletableFuture<Throwable> runInBackground(PacketHandler handler, AtomicBoolean interruptedAfter) {
        CompletableFuture<Throwable> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            Throwable thrown = null;
            try {
                queue.run(handler);
            } catch (Throwable e) {
                thrown = e;
            }
            // Read the flag before the future completes: the test reads it right after.
            if (interruptedAfter != null) {
                interruptedAfter.set(Thread.currentThread().isInterrupted());
            }
            done.complete(thrown);
        }, "nfqueue-" + Q + "-rx");
        t.setDaemon(true);
        t.start();
        return done;
    }

    @Test
    void runHandlesPacketsAndReturnsWhenClosedFromAnotherThread() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        CompletableFuture<Throwable> done = runInBackground(p -> {
            p.accept();
            handled.incrementAndGet();
        }, null);
        fake.offerMany(1, 5, Q);
        assertTrue(fake.awaitVerdicts(5, Duration.ofSeconds(5)), "packets handled while run() loops");
        assertTrue(fake.awaitWaiter(Duration.ofSeconds(5)), "run() is waiting for packets");
        long t0 = System.nanoTime();
        queue.close();
        assertNull(done.get(5, TimeUnit.SECONDS), "run() returned normally");
        // Wide: a pause (GC, a loaded machine) must not fail it; a run() that missed the close
        // would not return at all.
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(3), "returned promptly after close");
        assertEquals(5, handled.get());
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void runReturnsWhenTheHandlerCloses() throws Exception {
        fake.offerMany(1, 3, Q);
        CompletableFuture<Throwable> done = runInBackground(p -> {
            p.accept();
            if (p.id() == 2) {
                queue.close();
            }
        }, null);
        assertNull(done.get(5, TimeUnit.SECONDS));
        assertTrue(fake.isClosed());
        assertEquals(k.nfAccept, fake.lastVerdictFor(2).verdictCode());
        assertEquals(k.nfDrop, fake.lastVerdictFor(3).verdictCode(), "the packet after close got the default");
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void runReturnsSoonAfterInterruptWithTheFlagStillSet() throws Exception {
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        AtomicReference<Thread> runner = new AtomicReference<>();
        fake.offerMany(1, 1, Q);
        CompletableFuture<Throwable> done = runInBackground(p -> {
            runner.set(Thread.currentThread());
            p.accept();
        }, interruptedAfter);
        assertTrue(fake.awaitVerdicts(1, Duration.ofSeconds(5)));
        assertTrue(fake.awaitWaiter(Duration.ofSeconds(5)), "run() is waiting for more");
        long t0 = System.nanoTime();
        runner.get().interrupt();
        assertNull(done.get(5, TimeUnit.SECONDS));
        long took = System.nanoTime() - t0;
        // The fake ignores the interrupt, as poll(2) does: run() notices it between waits. "Soon"
        // is that no wait outlasts a slice; the clock bound is wide, so a pause cannot fail it.
        assertTrue(fake.longestAwaitMillis() <= 50, "longest wait " + fake.longestAwaitMillis() + " ms");
        assertTrue(took < TimeUnit.SECONDS.toNanos(2), "returned " + took / 1_000_000 + " ms after interrupt");
        assertTrue(interruptedAfter.get(), "the interrupt flag is still set");
        assertFalse(fake.isClosed(), "an interrupt ends the loop, not the binding");
    }

    @Test
    void runRethrowsTheHandlersExceptionAfterTheDefaultVerdict() throws Exception {
        IllegalArgumentException boom = new IllegalArgumentException("handler bug");
        fake.offerMany(1, 2, Q);
        CompletableFuture<Throwable> done = runInBackground(p -> {
            if (p.id() == 1) {
                throw boom;
            }
        }, null);
        assertSame(boom, done.get(5, TimeUnit.SECONDS));
        assertEquals(k.nfDrop, fake.lastVerdictFor(1).verdictCode());
        assertEquals(k.nfDrop, fake.lastVerdictFor(2).verdictCode(), "the rest of the batch too");
        assertEquals(2, queue.counters().defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR));
        assertFalse(fake.isClosed(), "the queue stays bound");
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void runGivesTheDefaultVerdictAfterTheVerdictTimeout() throws Exception {
        FakeTransport timed = new FakeTransport();
        try (NetfilterQueue q = NetfilterQueue.of(BoundQueue.open(
                QueueOptions.queue(Q).copyRange(256).verdictTimeout(Duration.ofMillis(50)), timed))) {
            timed.offerMany(1, 1, Q);
            Thread t = new Thread(() -> q.run(p -> { }), "timed-rx"); // keeps the packet, never resolves it
            t.setDaemon(true);
            t.start();
            assertTrue(timed.awaitVerdictFor(1, Duration.ofSeconds(5)), "expired while run() waits for packets");
            assertEquals(1, q.counters().defaultVerdicts(DefaultVerdictCause.TIMEOUT));
            q.close();
            t.join(2000);
            assertFalse(t.isAlive());
        }
        assertEquals(List.of(), timed.violations());
    }

    @Test
    void pollReturnsTheCountWithinItsTime() {
        fake.offerMany(1, 5, Q);
        List<Integer> ids = new ArrayList<>();
        long t0 = System.nanoTime();
        int n = queue.poll(p -> {
            ids.add(p.id());
            p.accept();
        }, Duration.ofMillis(300));
        long took = System.nanoTime() - t0;
        assertEquals(5, n);
        assertEquals(List.of(1, 2, 3, 4, 5), ids);
        assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(290), "handles what arrives within the time: " + took);
        // No wait runs past the time; the clock bound is wide, so a pause cannot fail it.
        assertTrue(fake.longestAwaitMillis() <= 300, "longest wait " + fake.longestAwaitMillis() + " ms");
        assertTrue(took < TimeUnit.SECONDS.toNanos(3), "returns at its time: " + took / 1_000_000 + " ms");
    }

    @Test
    void pollCountsPacketsArrivingDuringTheWait() throws Exception {
        Thread late = new Thread(() -> {
            fake.awaitWaiter(Duration.ofSeconds(5)); // poll is inside its wait: they arrive during it
            fake.offerMany(1, 3, Q);
        });
        late.start();
        assertEquals(3, queue.poll(Packet::accept, Duration.ofSeconds(2)));
        late.join(2000);
    }

    @Test
    void pollWithZeroTimeoutReadsWhatIsThere() {
        fake.offerMany(1, 2, Q);
        assertEquals(2, queue.poll(Packet::accept, Duration.ZERO));
        assertEquals(0, queue.poll(Packet::accept, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> queue.poll(Packet::accept, Duration.ofMillis(-1)));
    }

    /** poll() returns "how many packets the handler was given", also when the handler closes mid-batch. */
    @Test
    void pollCountsOnlyPacketsTheHandlerWasGiven() {
        fake.offerMany(1, 5, Q);
        AtomicInteger given = new AtomicInteger();
        int n = queue.poll(p -> {
            given.incrementAndGet();
            p.accept();
            if (p.id() == 2) {
                queue.close();
            }
        }, Duration.ofMillis(200));
        assertEquals(2, given.get());
        assertEquals(given.get(), n);
    }

    @Test
    void pollAfterCloseReturnsZero() {
        queue.close();
        assertEquals(0, queue.poll(Packet::accept, Duration.ofMillis(100)));
    }

    @Test
    void pollReturnsEarlyWhenClosedFromAnotherThread() throws Exception {
        Thread closer = new Thread(() -> {
            fake.awaitWaiter(Duration.ofSeconds(5)); // close while poll waits
            queue.close();
        });
        closer.start();
        long t0 = System.nanoTime();
        queue.poll(Packet::accept, Duration.ofSeconds(10));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "poll ended at close");
        closer.join(2000);
    }

    /** "Wait as long as it takes" written as a huge Duration must not overflow. */
    @Test
    void pollWithAHugeTimeoutRunsUntilClose() throws Exception {
        fake.offerMany(1, 1, Q);
        Thread closer = new Thread(() -> {
            fake.awaitVerdicts(1, Duration.ofSeconds(5)); // poll handled the packet: now close
            queue.close();
        });
        closer.start();
        assertEquals(1, queue.poll(Packet::accept, Duration.ofSeconds(Long.MAX_VALUE)));
        assertTrue(queue.handle().isClosed(), "poll ran until the close");
        closer.join(2000);
    }

    @Test
    void pollRethrowsTheHandlersException() {
        fake.offerMany(1, 1, Q);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> queue.poll(p -> {
                    throw new IllegalStateException("handler");
                }, Duration.ofMillis(200)));
        assertEquals("handler", e.getMessage());
        assertEquals(k.nfDrop, fake.lastVerdictFor(1).verdictCode());
    }

    @Test
    void verdictsLaterFromAnotherThreadAfterTheHandlerReturned() throws Exception {
        List<Packet> kept = new ArrayList<>();
        fake.offerMany(1, 3, Q);
        assertEquals(3, queue.poll(kept::add, Duration.ofMillis(100)));
        CountDownLatch done = new CountDownLatch(1);
        new Thread(() -> {
            for (int i = kept.size() - 1; i >= 0; i--) {
                kept.get(i).accept(); // out of order
            }
            done.countDown();
        }).start();
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertEquals(3, fake.verdictsApplied());
        assertEquals(List.of(3, 2, 1), fake.sent().stream().map(v -> v.id()).toList());
    }

    @Test
    void closeIsIdempotentAndExposesTheHandle() {
        assertEquals(Q, queue.options().queueNumber());
        assertEquals(Q, queue.handle().queueNumber());
        assertTrue(queue.toString().contains("queue " + Q), queue.toString());
        queue.close();
        queue.close();
        assertEquals(1, fake.closeCalls());
    }
}
