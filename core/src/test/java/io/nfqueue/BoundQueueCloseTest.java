package io.nfqueue;

import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closing a bound queue, and the verdict timeout, over {@link FakeTransport}. */
@Timeout(30)
class BoundQueueCloseTest {
    private static final int Q = 4;
    private final NativeConstants k = NativeConstants.get();
    private final FakeTransport fake = new FakeTransport();

    @AfterEach
    void contractHeld() {
        assertEquals(List.of(), fake.violations(), "Transport contract");
    }

    private static List<Packet> receive(BoundQueue q, int limit) {
        List<Packet> got = new ArrayList<>();
        q.receive(got::add, limit);
        return got;
    }

    @Test
    void closeGivesUnresolvedAndUnreadPacketsTheDefaultVerdict() {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).defaultVerdict(Verdict.accept().withMark(5)), fake);
        fake.offerMany(1, 3, Q);
        List<Packet> held = receive(q, 16);
        held.get(0).drop();
        fake.offerMany(4, 2, Q); // still in the socket when close comes
        q.close();
        assertEquals(k.nfDrop, fake.lastVerdictFor(1).verdictCode());
        for (int id = 2; id <= 5; id++) {
            assertEquals(k.nfAccept, fake.lastVerdictFor(id).verdictCode(), "packet " + id);
            assertEquals(5, fake.lastVerdictFor(id).mark().orElseThrow(), "packet " + id);
        }
        assertEquals("", fake.exactlyOnceProblems());
        assertEquals(Set.of(), fake.heldAtClose(), "nothing left in the kernel queue");
        assertEquals(4, q.counters().defaultVerdicts(DefaultVerdictCause.CLOSE));
        assertTrue(fake.isClosed());
        assertTrue(q.isClosed());
        assertEquals(0, q.unresolvedCount());
    }

    @Test
    void afterCloseReceiveReturnsMinusOneAndVerdictsThrow() {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q), fake);
        fake.offerMany(1, 1, Q);
        Packet p = receive(q, 16).get(0);
        q.close();
        assertEquals(-1, q.receive(x -> { }, 16));
        IllegalStateException e = assertThrows(IllegalStateException.class, p::accept);
        assertTrue(e.getMessage().contains("CLOSE"), e.getMessage());
        assertEquals(1, fake.sent().size(), "only the default verdict");
    }

    /**
     * After close, nothing may reach the transport: with the native one, a closed handle is 0
     * (an exception), and a call racing close would touch freed memory.
     */
    @Test
    void publicMethodsAfterCloseNeverReachTheTransport() {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).verdictTimeout(Duration.ofMillis(1)), fake);
        q.close();
        assertEquals(-1, q.receive(x -> { }, 4));
        assertFalse(q.awaitReadable(10));
        q.wakeup();
        q.flush();
        assertEquals(0, q.expireOverdue());
        assertEquals(0, q.resolveAllWithDefault(DefaultVerdictCause.CLOSE));
        assertThrows(IllegalStateException.class, () -> q.setMaxLength(10));
        q.counters();
        q.toString();
        try {
            q.receiveBufferSize();
        } catch (IllegalStateException expected) {
            // a clear refusal is fine; reaching the closed transport is not (checked below)
        }
        assertEquals(List.of(), fake.violations(), "calls that reached the closed transport");
    }

    @Test
    void closeIsIdempotentAndClosesTheTransportOnce() {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q), fake);
        q.close();
        q.close();
        assertEquals(1, fake.closeCalls());
    }

    @Test
    void concurrentSecondCloseWaitsForTheFirst() throws Exception {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q), fake);
        fake.offerMany(1, 1, Q);
        receive(q, 4);
        CountDownLatch inSend = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        fake.onSend(n -> {
            inSend.countDown();
            await(release);
        });
        Thread first = new Thread(q::close, "first-close");
        first.start();
        assertTrue(inSend.await(5, TimeUnit.SECONDS), "first close is sending the default verdicts");
        Thread second = new Thread(q::close, "second-close");
        second.start();
        second.join(200);
        assertTrue(second.isAlive(), "the second close waits until the first is done");
        release.countDown();
        first.join(5000);
        second.join(5000);
        assertFalse(second.isAlive());
        assertTrue(fake.isClosed());
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void closeFromInsideTheConsumerStopsTheBatch() {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q), fake);
        fake.offerMany(1, 5, Q);
        List<Integer> seen = new ArrayList<>();
        int handedOut = q.receive(p -> {
            seen.add(p.id());
            if (p.id() == 2) {
                p.accept();
                q.close();
            }
        }, 16);
        assertEquals(List.of(1, 2), seen, "resolved packets are not handed out after close");
        assertEquals(2, handedOut, "receive() returns the packets handed out, as documented");
        assertEquals(k.nfAccept, fake.lastVerdictFor(2).verdictCode());
        assertEquals("", fake.exactlyOnceProblems());
        assertEquals(-1, q.receive(p -> { }, 16));
    }

    @Test
    void closeWakesAWaitingThread() throws Exception {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q), fake);
        long[] waited = new long[1];
        Thread waiter = new Thread(() -> {
            long t0 = System.nanoTime();
            q.awaitReadable(20_000);
            waited[0] = System.nanoTime() - t0;
        }, "waiter");
        waiter.start();
        assertTrue(fake.awaitWaiter(Duration.ofSeconds(5)), "the waiter is inside its wait");
        q.close();
        waiter.join(5000);
        assertFalse(waiter.isAlive());
        assertTrue(waited[0] < TimeUnit.SECONDS.toNanos(5), "returned at close, not at its timeout");
    }

    /**
     * close() promises to resolve "any [packets] the socket already holds". Raising the kernel's
     * max-length with setMaxLength lets the socket hold more than the configured max-length,
     * and the drain must still read them all.
     */
    @Test
    void closeDrainsEverythingTheSocketHoldsAfterMaxLengthWasRaised() {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).maxLength(16).batchSize(4)
                .defaultVerdict(Verdict.accept()), fake);
        q.setMaxLength(1000);
        fake.offerMany(1, 200, Q);
        q.close();
        assertEquals(Set.of(), fake.heldAtClose(),
                fake.heldAtClose().size() + " packets were left in the socket and dropped at unbind "
                        + "instead of getting the default verdict (ACCEPT)");
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void closeCountsErrorsAndTruncationsItDrains() {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q), fake);
        fake.offerEnobufs();
        fake.offerError(k.enoent, k.msgVerdict, 3);
        fake.offerTruncated(1, Q);
        fake.offerMany(2, 2, Q);
        q.close();
        QueueCounters c = q.counters();
        assertEquals(1, c.kernelErrors());
        assertEquals(1, c.receiveBufferDrops());
        assertEquals(1, c.defaultVerdicts(DefaultVerdictCause.TRUNCATED_MESSAGE));
        assertEquals(2, c.defaultVerdicts(DefaultVerdictCause.CLOSE));
        assertEquals("", fake.exactlyOnceProblems());
    }

    /**
     * The kernel answers a refused verdict on the socket during the send itself: close reads that
     * answer before the socket goes, or the refusal of its last verdicts would count nowhere.
     */
    @Test
    void closeCountsTheKernelsAnswerToItsLastVerdicts() {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q), fake);
        fake.offerMany(1, 3, Q);
        AtomicBoolean once = new AtomicBoolean();
        fake.onSend(count -> {
            if (once.compareAndSet(false, true)) {
                fake.offerError(k.enoent, k.msgVerdict, 3); // as if packet 3 had been flushed
            }
        });
        q.close();
        assertTrue(once.get(), "close sent verdicts");
        assertEquals(1, q.counters().kernelErrors(), q.counters().toString());
        assertTrue(fake.isClosed());
    }

    /** A packet the kernel queues while close sends its verdicts gets the default verdict too. */
    @Test
    void closeGivesTheDefaultVerdictToAPacketQueuedWhileItSent() {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).defaultVerdict(Verdict.accept()), fake);
        fake.offerMany(1, 2, Q);
        AtomicBoolean once = new AtomicBoolean();
        fake.onSend(count -> {
            if (once.compareAndSet(false, true)) {
                fake.offerMany(3, 1, Q);
            }
        });
        q.close();
        assertEquals(Set.of(), fake.heldAtClose(), "packet 3 was left to the kernel's DROP at unbind");
        assertEquals(k.nfAccept, fake.lastVerdictFor(3).verdictCode());
        assertEquals(3, q.counters().defaultVerdicts(DefaultVerdictCause.CLOSE));
        assertEquals("", fake.exactlyOnceProblems());
    }

    /**
     * Default verdicts are "logged once per burst": the log may sum them, but a burst of 50 at
     * close must not be reported as 1 with the other 49 never logged at all.
     */
    @Test
    void logOfABurstOfDefaultVerdictsAccountsForAllOfThemByClose() {
        Logger logger = Logger.getLogger("io.nfqueue");
        List<String> messages = Collections.synchronizedList(new ArrayList<>());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                messages.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try {
            BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).copyRange(64).batchSize(64), fake);
            fake.offerMany(1, 50, Q);
            receive(q, 64);
            q.close();
        } finally {
            logger.removeHandler(capture);
        }
        long logged = 0;
        Pattern count = Pattern.compile("(\\d+) [a-z ]*packets got the default verdict");
        for (String m : messages) {
            Matcher matcher = count.matcher(m);
            if (matcher.find()) {
                logged += Long.parseLong(matcher.group(1));
            }
        }
        assertEquals(50, logged, "default verdicts accounted for in the log: " + messages);
    }

    /**
     * A packet an operator discarded (the Reactor adapter's filter in the safe form) gets the
     * default verdict as a pipeline's normal work: logged at DEBUG, never at WARNING, so a JVM
     * without logging configuration prints nothing for it; a handler's error still warns.
     */
    @Test
    void aDiscardedPacketIsLoggedAtDebugAndAHandlerErrorAtWarning() {
        Logger logger = Logger.getLogger("io.nfqueue");
        List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Level before = logger.getLevel();
        logger.setLevel(Level.ALL);
        logger.addHandler(capture);
        try {
            BoundQueue q = BoundQueue.open(QueueOptions.queue(Q), fake);
            fake.offerMany(1, 2, Q);
            List<Packet> held = receive(q, 16);
            assertTrue(held.get(0).defaultVerdict(DefaultVerdictCause.DISCARD));
            assertTrue(held.get(1).defaultVerdict(DefaultVerdictCause.HANDLER_ERROR));
            q.close();
        } finally {
            logger.removeHandler(capture);
            logger.setLevel(before);
        }
        List<String> discards = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (LogRecord r : records) {
            if (r.getMessage().contains("DISCARD")) {
                assertEquals(Level.FINE, r.getLevel(), r.getMessage());
                discards.add(r.getMessage());
            } else if (r.getMessage().contains("HANDLER_ERROR")) {
                assertEquals(Level.WARNING, r.getLevel(), r.getMessage());
                errors.add(r.getMessage());
            }
        }
        assertEquals(1, discards.size(), "the discard, at DEBUG: " + records);
        assertEquals(1, errors.size(), "the handler error, at WARNING: " + records);
    }

    @Test
    void expireOverdueGivesOldPacketsTheDefaultVerdict() throws Exception {
        // A timeout longer than a pause (GC, a loaded machine) between a receive and the
        // expireOverdue after it, so "not yet overdue" holds; the sleep only has to outlast it.
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).verdictTimeout(Duration.ofMillis(1500))
                .defaultVerdict(Verdict.repeat()), fake);
        fake.offerMany(1, 3, Q);
        List<Packet> got = receive(q, 16);
        got.get(0).accept();
        assertEquals(0, q.expireOverdue(), "nothing is overdue yet");
        Thread.sleep(1600);
        fake.offerMany(4, 1, Q);
        Packet fresh = receive(q, 16).get(0);
        assertEquals(2, q.expireOverdue(), "packets 2 and 3 are overdue, 4 is not");
        assertEquals(k.nfRepeat, fake.lastVerdictFor(2).verdictCode());
        assertEquals(k.nfRepeat, fake.lastVerdictFor(3).verdictCode());
        assertFalse(fresh.isResolved());
        assertEquals(2, q.counters().defaultVerdicts(DefaultVerdictCause.TIMEOUT));
        IllegalStateException e = assertThrows(IllegalStateException.class, got.get(1)::accept);
        assertTrue(e.getMessage().contains("TIMEOUT"), e.getMessage());
        fresh.accept();
        q.close();
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void expireOverdueWithoutTimeoutDoesNothing() throws Exception {
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q), fake);
        fake.offerMany(1, 1, Q);
        receive(q, 16);
        Thread.sleep(20);
        assertEquals(0, q.expireOverdue());
        assertEquals(1, q.unresolvedCount());
        q.close();
    }

    /**
     * A verdict timeout too long to count in nanoseconds ("practically never") is accepted by
     * the options, so it must work: either refuse it eagerly or never overflow later.
     */
    @Test
    void hugeVerdictTimeoutIsRefusedEarlyOrWorks() {
        QueueOptions options;
        try {
            options = QueueOptions.queue(Q).verdictTimeout(ChronoUnit.FOREVER.getDuration());
        } catch (IllegalArgumentException refusedEagerly) {
            return;
        }
        BoundQueue q = BoundQueue.open(options, fake);
        fake.offerMany(1, 1, Q);
        receive(q, 16);
        assertEquals(0, assertDoesNotThrow(q::expireOverdue, "expireOverdue with a timeout of " + options.verdictTimeout()));
        q.close();
    }

    static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not released in 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
