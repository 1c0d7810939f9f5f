package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Hooks;
import reactor.test.util.RaceTestUtils;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Races of the end of a subscription against verdicts given on other threads, against the
 * verdict-timeout watchdog and against emission: whoever wins, each packet that reached the
 * JVM gets exactly one verdict (never 0, never 2). Each race runs many rounds, each bounded.
 */
@Timeout(120)
class PacketReceiverRaceTest {
    private static final int Q = 13;
    private static final int ROUNDS = 200;
    private static final int PACKETS = 32;
    private final Random random = new Random(7);
    private final List<Throwable> dropped = new CopyOnWriteArrayList<>();

    @BeforeEach
    void watchDroppedErrors() {
        // An error with nowhere to go (after the subscription ended) is a bug in the end sequence.
        Hooks.onErrorDropped(dropped::add);
    }

    @AfterEach
    void resetHooks() {
        Hooks.resetOnErrorDropped();
    }

    @Test
    void cancelRacingVerdictsFromOtherThreads() {
        for (int round = 0; round < ROUNDS; round++) {
            FakeQueues fakes = new FakeQueues();
            fakes.next(Q).offerMany(1, PACKETS, Q);
            PacketReceiver receiver = fakes.receiver(options());
            List<Packet> held = new CopyOnWriteArrayList<>();
            Disposable running = receiver.receive().subscribe(held::add);
            Await.until(() -> held.size() == PACKETS, () -> "delivered");
            AtomicInteger programVerdicts = new AtomicInteger();

            RaceTestUtils.race(
                    running::dispose,
                    () -> giveVerdicts(held, 0, PACKETS / 2, true, programVerdicts),
                    () -> giveVerdicts(held, PACKETS / 2, PACKETS, false, programVerdicts));

            QueueCounters c = receiver.counters().get(0);
            String where = "round " + round + ": " + c;
            assertEquals("", fakes.exactlyOnceProblems(), where);
            assertEquals(PACKETS, programVerdicts.get() + c.defaultVerdicts(DefaultVerdictCause.CANCEL), where);
            assertEquals(List.of(), fakes.violations(), where);
            assertTrue(held.stream().allMatch(Packet::isResolved), where);
        }
        assertEquals(List.of(), dropped, "errors dropped at the end of a subscription");
    }

    @Test
    void cancelRacingTheVerdictTimeoutWatchdog() {
        for (int round = 0; round < ROUNDS / 2; round++) {
            FakeQueues fakes = new FakeQueues();
            fakes.next(Q).offerMany(1, PACKETS, Q);
            PacketReceiver receiver = fakes.receiver(options().verdictTimeout(Duration.ofMillis(20)));
            List<Packet> held = new CopyOnWriteArrayList<>();
            Disposable running = receiver.receive().subscribe(held::add);
            Await.until(() -> held.size() == PACKETS, () -> "delivered");
            // The watchdog runs on the receive thread between its 50 ms waits: cancel somewhere in
            // the window where it fires.
            Await.sleep(random.nextInt(70));
            AtomicInteger programVerdicts = new AtomicInteger();
            RaceTestUtils.race(running::dispose, () -> giveVerdicts(held, 0, PACKETS, true, programVerdicts));

            QueueCounters c = receiver.counters().get(0);
            String where = "round " + round + ": " + c;
            assertEquals("", fakes.exactlyOnceProblems(), where);
            assertEquals(PACKETS, programVerdicts.get() + c.defaultVerdicts(DefaultVerdictCause.TIMEOUT)
                    + c.defaultVerdicts(DefaultVerdictCause.CANCEL), where);
            assertEquals(List.of(), fakes.violations(), where);
        }
        assertEquals(List.of(), dropped, "errors dropped at the end of a subscription");
    }

    @Test
    void cancelRacingEmission() {
        for (int round = 0; round < ROUNDS; round++) {
            FakeQueues fakes = new FakeQueues();
            // Fewer than close drains in one go: this race is about emission, not the kernel's queue.
            FakeTransport fake = fakes.next(Q).offerMany(1, 96, Q);
            PacketReceiver receiver = fakes.receiver(options());
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger afterCancel = new AtomicInteger();
            AtomicBoolean cancelled = new AtomicBoolean();
            AtomicInteger inOnNext = new AtomicInteger();
            Disposable running = receiver.receive().subscribe(p -> {
                inOnNext.incrementAndGet();
                try {
                    if (cancelled.get()) {
                        afterCancel.incrementAndGet();
                    }
                    busy(20); // emission takes a while, so the cancel lands inside it
                    if (p.id() % 2 == 0) {
                        try {
                            p.accept();
                            accepted.incrementAndGet();
                        } catch (IllegalStateException lostTheRace) {
                            // the cancel resolved it first
                        }
                    }
                } finally {
                    inOnNext.decrementAndGet();
                }
            });
            int wait = random.nextInt(1000);
            Await.until(() -> fake.recordsDelivered() > 0, () -> "emission started");
            busy(wait);
            running.dispose();
            cancelled.set(true); // from here on no onNext may start (one already past its check may)
            // That one may still be between its accept() and counting it: let it finish.
            Await.until(() -> inOnNext.get() == 0, () -> "an onNext still running after cancel");

            QueueCounters c = receiver.counters().get(0);
            String where = "round " + round + ": " + c;
            assertEquals("", fakes.exactlyOnceProblems(), where);
            assertEquals(96, accepted.get() + c.totalDefaultVerdicts(), where);
            assertEquals(List.of(), fakes.violations(), where);
            // An emission that passed its check just before cancel may still call onNext (§2.8
            // allows it), but once cancel has returned the stream stops: at most that one.
            assertTrue(afterCancel.get() <= 1, where + ", onNext started after cancel returned: " + afterCancel.get());
        }
        assertEquals(List.of(), dropped, "errors dropped at the end of a subscription");
    }

    /**
     * A small copy range: each binding allocates receive slots for it, and a round binds anew;
     * the fake's packets carry 4 bytes.
     */
    private static ReceiverOptions options() {
        return ReceiverOptions.queue(Q).queueOptions(q -> q.copyRange(128));
    }

    /**
     * request() moves the kernel max-length itself, and so does the receive thread between
     * reads. With demand only growing (no packets to consume it), the lengths the kernel is told
     * must never go down: a decrease means two changes were applied in the opposite order of
     * their computation, and the kernel is left with a stale length the control no longer knows.
     */
    @Test
    void requestRacingTheReceiveThreadAppliesMaxLengthChangesInOrder() {
        int requests = 20_000;
        for (int round = 0; round < 40; round++) {
            FakeQueues fakes = new FakeQueues();
            FakeTransport fake = fakes.next(Q);
            // Hysteresis 1: every request moves the length, so every request can race the reader.
            PacketReceiver receiver = fakes.receiver(options().maxLengthHysteresis(1).maxLengthBounds(1, 1 << 20));
            BaseSubscriber<Packet> s = new BaseSubscriber<>() {
                @Override
                protected void hookOnSubscribe(Subscription subscription) {
                    // requests come one by one from the test thread below
                }
            };
            receiver.receive().subscribe(s);
            try {
                for (int i = 0; i < requests; i++) {
                    s.request(1);
                }
                Await.quiet();
                List<Integer> lengths = FakeQueues.maxLengthChanges(fake);
                for (int i = 1; i < lengths.size(); i++) {
                    if (lengths.get(i) < lengths.get(i - 1)) {
                        throw new AssertionError("round " + round + ": change " + i + " of " + lengths.size()
                                + " lowered the length " + lengths.get(i - 1) + " -> " + lengths.get(i)
                                + " while demand only grew");
                    }
                }
                assertTrue(FakeQueues.currentMaxLength(fake) >= requests, "final length "
                        + FakeQueues.currentMaxLength(fake) + " below the demand " + requests);
            } finally {
                s.dispose();
            }
        }
    }

    private static void giveVerdicts(List<Packet> packets, int from, int to, boolean accept, AtomicInteger given) {
        for (int i = from; i < to; i++) {
            try {
                if (accept) {
                    packets.get(i).accept();
                } else {
                    packets.get(i).drop();
                }
                given.incrementAndGet();
            } catch (IllegalStateException alreadyResolved) {
                // the cancel got there first: its default verdict stands
            }
        }
    }

    /** Spins for about {@code micros} microseconds. */
    private static void busy(int micros) {
        long end = System.nanoTime() + micros * 1000L;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
