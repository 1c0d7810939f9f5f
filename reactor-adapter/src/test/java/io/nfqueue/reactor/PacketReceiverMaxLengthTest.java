package io.nfqueue.reactor;

import io.nfqueue.NfQueueException;
import io.nfqueue.Packet;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.ConfigureCall;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.nfqueue.reactor.FakeQueues.currentMaxLength;
import static io.nfqueue.reactor.FakeQueues.maxLengthChanges;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel queue's max-length follows what the subscriber drains over time, as the config
 * messages the fake records show: unresolved + headroom, the headroom the packets the subscriber
 * takes within the queue delay budget at its measured rate, between the floor and the ceiling.
 * A fast subscriber keeps the ceiling whatever it requests at a time; one that stops, or is
 * slow, gets unresolved + floor; no packet costs a config message.
 */
@Timeout(90)
class PacketReceiverMaxLengthTest {
    private static final int Q = 8;
    private static final int FLOOR = ReceiverOptions.DEFAULT_MAX_LENGTH_FLOOR;
    private static final int CEILING = ReceiverOptions.DEFAULT_MAX_LENGTH_CEILING;
    private final FakeQueues fakes = new FakeQueues();

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    /**
     * The most the length stays above a target it settled on: a shrink waits until the target is
     * a third below the length, so the length is at most 3/2 of the target.
     */
    private static int settled(int target) {
        return target * 3 / 2;
    }

    @Test
    void bindStartsGenerousAtTheCeiling() {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).maxLengthBounds(16, 512));
        Disposable running = receiver.receive().subscribe(Packet::accept);
        try {
            ConfigureCall bind = fake.configureCalls().get(0);
            assertEquals(NativeConstants.get().cmdBind, bind.command());
            assertEquals(512, bind.maxLength(), "no rate known yet: the ceiling");
            Await.quiet();
            assertEquals(List.of(), maxLengthChanges(fake), "an idle subscriber with demand keeps it");
            QueueBackpressure b = receiver.backpressure().get(0);
            assertEquals(512, b.kernelMaxLength());
            assertEquals(512, b.headroom());
            assertFalse(b.drainRate().isPresent(), "no work seen, no rate: " + b);
            assertEquals(Long.MAX_VALUE, b.outstandingDemand());
        } finally {
            running.dispose();
        }
    }

    /** concatMap requests one at a time; it drains in microseconds, so the queue stays long. */
    @Test
    void aFastPipelineRequestingOneAtATimeKeepsTheCeiling() throws Exception {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive().concatMap(Mono::just).subscribe(Packet::accept);
        try (SteadyFlow flow = SteadyFlow.start(fake, Q, 1, 20_000, 256)) {
            flow.join();
            assertTrue(fake.awaitVerdicts(20_000, Duration.ofSeconds(30)), "verdicts: " + fake.verdictsApplied());
            QueueBackpressure b = receiver.backpressure().get(0);
            // 20 000 packets may take less than the 50 ms of work after which a rate is trusted:
            // then it is still unknown, which means the ceiling too.
            assertTrue(b.drainRate().isEmpty() || b.drainRate().getAsDouble() * 0.05 >= CEILING,
                    "a rate that earns the ceiling: " + b);
            assertEquals(CEILING, currentMaxLength(fake), b.toString());
        } finally {
            running.dispose();
        }
        // Demand hovers at 1 and does not move the length; the rate does, while the JIT warms up
        // (a fresh test JVM starts at a fifth of its speed): a change per factor of ~1.2 of it.
        assertTrue(maxLengthChanges(fake).size() <= 12, "not a change per request: " + maxLengthChanges(fake));
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void limitRateCostsNoConfigMessagePerReplenish() throws Exception {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive().limitRate(64).subscribe(Packet::accept);
        int packets = 20_000;
        try (SteadyFlow flow = SteadyFlow.start(fake, Q, 1, packets, 256)) {
            flow.join();
            assertTrue(fake.awaitVerdicts(packets, Duration.ofSeconds(30)), "verdicts: " + fake.verdictsApplied());
        } finally {
            running.dispose();
        }
        // limitRate(64) swings demand 16..64 every 48 packets (416 replenishes here); the length
        // follows the rate, which moves only while the JIT warms the path up.
        assertTrue(maxLengthChanges(fake).size() <= 12, "not a change per replenish: " + maxLengthChanges(fake));
    }

    /**
     * A subscriber that takes 50 packets and stops requesting (and resolves none) is a stopped
     * subscriber: its rate decays, and the kernel may hold its 50 plus the floor, no more.
     * Verdicts then let the length fall to the floor.
     */
    @Test
    void aStoppedSubscriberGetsUnresolvedPlusFloorAndVerdictsLetItFall() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 50, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        List<Packet> held = new CopyOnWriteArrayList<>();
        BaseSubscriber<Packet> s = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                request(50);
            }

            @Override
            protected void hookOnNext(Packet p) {
                held.add(p);
            }
        };
        receiver.receive().subscribe(s);
        try {
            Await.until(() -> held.size() == 50, () -> "50 delivered");
            int target = 50 + FLOOR;
            Await.until(() -> currentMaxLength(fake) <= settled(target),
                    () -> "50 unresolved + floor, changes " + maxLengthChanges(fake) + ", " + receiver.backpressure());
            assertTrue(currentMaxLength(fake) >= target, "room for the 50 and the floor: " + currentMaxLength(fake));

            held.forEach(Packet::accept);
            Await.until(() -> currentMaxLength(fake) <= settled(FLOOR),
                    () -> "nothing unresolved: the floor, changes " + maxLengthChanges(fake));
            assertTrue(maxLengthChanges(fake).size() <= 20, "a few changes at most: " + maxLengthChanges(fake));
        } finally {
            s.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /**
     * A plain subscribe() whose onNext takes 5 ms: unbounded demand, but a measured rate of at
     * most 200 per second, which earns 10 packets of a 50 ms budget, so the floor; the kernel
     * holds unresolved + floor, not the ceiling that unbounded demand used to mean.
     */
    @Test
    void aSlowSubscriberWithUnboundedDemandGetsTheHeadroomItsRateEarns() throws Exception {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        AtomicInteger got = new AtomicInteger();
        Disposable running = receiver.receive().subscribe(p -> {
            Await.sleep(5);
            p.accept();
            got.incrementAndGet();
        });
        try (SteadyFlow flow = SteadyFlow.start(fake, Q, 1, 1_000, 64)) {
            Await.until(() -> got.get() >= 60, Duration.ofSeconds(20), () -> "60 packets through");
            QueueBackpressure b = receiver.backpressure().get(0);
            assertTrue(b.drainRate().isPresent() && b.drainRate().getAsDouble() <= 210,
                    "at most 200/s (5 ms each, plus scheduling): " + b);
            int most = 32 + FLOOR; // a batch of 32 unresolved at most
            assertTrue(currentMaxLength(fake) <= settled(most), "unresolved + floor: " + b);
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /**
     * A max-length change the kernel refuses ends the subscription with onError, resolving
     * everything and unbinding; request() never makes a change, so it never throws (§3.16).
     */
    @Test
    void refusedMaxLengthChangeEndsTheSubscriptionWithOnError() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 3, Q);
        fake.failConfigure(NativeConstants.get().eperm);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        List<Throwable> thrownByRequest = new CopyOnWriteArrayList<>();
        List<Throwable> onError = new CopyOnWriteArrayList<>();
        BaseSubscriber<Packet> s = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                try {
                    subscription.request(3); // 3 come, then no demand: the rate decays, the length shrinks
                } catch (Throwable t) {
                    thrownByRequest.add(t);
                }
            }

            @Override
            protected void hookOnError(Throwable t) {
                onError.add(t);
            }
        };
        receiver.receive().subscribe(s);
        try {
            Await.until(() -> !onError.isEmpty() || !thrownByRequest.isEmpty(), () -> "a failure signal");
            Await.quiet();
            assertEquals(List.of(), thrownByRequest, "request() threw instead of signalling onError");
            assertEquals(1, onError.size(), "onError: " + onError);
            assertInstanceOf(NfQueueException.class, onError.get(0));
            assertTrue(fake.isClosed(), "the failed subscription unbinds its queue");
            assertEquals("", fakes.exactlyOnceProblems());
        } finally {
            s.dispose(); // in case the subscription is still alive
        }
    }

    /**
     * The kernel refuses a change while the subscriber is inside onNext (on the hand-off worker):
     * the failing thread (the watchdog) must not wait for onNext to return, and the onError comes
     * after onNext has returned, from the thread that emitted, never overlapping it (§1.3).
     */
    @Test
    void refusedChangeWhileOnNextRunsFailsWithoutWaitingAndSignalsAfterIt() throws Exception {
        FakeTransport fake = fakes.next(Q).offerMany(1, 1, Q);
        Scheduler worker = Schedulers.newSingle("maxlen-handoff");
        CountDownLatch inOnNext = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch ended = new CountDownLatch(1);
        AtomicInteger overlapping = new AtomicInteger();
        AtomicInteger inside = new AtomicInteger();
        List<Throwable> onError = new CopyOnWriteArrayList<>();
        BaseSubscriber<Packet> s = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            protected void hookOnNext(Packet p) {
                inside.incrementAndGet();
                inOnNext.countDown();
                // Ending the subscription disposes the hand-off worker, which interrupts a running
                // task as Reactor's own publishOn does: wait on regardless, to stay inside onNext.
                boolean interrupted = false;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (release.getCount() > 0 && System.nanoTime() < deadline) {
                    try {
                        release.await(10, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                inside.decrementAndGet();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            protected void hookOnError(Throwable t) {
                if (inside.get() != 0) {
                    overlapping.incrementAndGet();
                }
                onError.add(t);
                ended.countDown();
            }
        };
        try {
            fake.failConfigure(NativeConstants.get().eperm);
            fakes.receiver(ReceiverOptions.queue(Q).handoff(worker)).receive().subscribe(s);
            assertTrue(inOnNext.await(5, TimeUnit.SECONDS), "the packet reached onNext");
            // Stuck in onNext: the rate decays, the watchdog shrinks the length, the kernel refuses.
            Await.until(fake::isClosed, Duration.ofSeconds(5), () -> "the refusal ended the subscription "
                    + "while onNext still runs (the watchdog did not wait for it)");
            assertFalse(ended.await(100, TimeUnit.MILLISECONDS), "no onError while onNext runs");
            release.countDown();
            assertTrue(ended.await(5, TimeUnit.SECONDS), "onError after onNext returned");
            assertEquals(0, overlapping.get(), "onError overlapped onNext");
            assertInstanceOf(NfQueueException.class, onError.get(0));
            assertEquals("", fakes.exactlyOnceProblems());
        } finally {
            release.countDown();
            s.dispose();
            worker.dispose();
        }
    }
}
