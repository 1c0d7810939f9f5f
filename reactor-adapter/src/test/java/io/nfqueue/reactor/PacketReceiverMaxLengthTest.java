package io.nfqueue.reactor;

import io.nfqueue.NfQueueException;
import io.nfqueue.Packet;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.testing.ConfigureCall;
import io.nfqueue.testing.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.nfqueue.reactor.FakeQueues.currentMaxLength;
import static io.nfqueue.reactor.FakeQueues.maxLengthChanges;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel queue's max-length follows outstanding demand + unresolved packets, as the config
 * messages the fake records show: request(8) holds about 8, unbounded demand the ceiling, and a
 * steady flow costs no config message per packet.
 */
@Timeout(90)
class PacketReceiverMaxLengthTest {
    private static final int Q = 8;
    private static final int H = 8; // the default hysteresis
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final FakeQueues fakes = new FakeQueues();

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    @Test
    void bindStartsAtTheLowerBoundAndSizesNothingPerPacket() {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).maxLengthBounds(4, 512));
        StepVerifier.create(receiver.receive(), 0)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(150))
                .thenCancel()
                .verify(VERIFY);
        ConfigureCall bind = fake.configureCalls().get(0);
        assertEquals(NativeConstants.get().cmdBind, bind.command());
        assertEquals(4, bind.maxLength(), "no demand yet: the lower bound");
        assertEquals(List.of(), maxLengthChanges(fake), "no demand, no change");
    }

    @Test
    void requestEightSetsAboutEight() {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        StepVerifier.create(receiver.receive(), 8)
                .expectSubscription()
                .then(() -> Await.until(() -> !maxLengthChanges(fake).isEmpty(), () -> "a max-length change"))
                .expectNoEvent(Duration.ofMillis(150))
                .then(() -> {
                    int length = currentMaxLength(fake);
                    assertTrue(length >= 8 && length <= 8 + H, "request(8): max-length " + length);
                    assertEquals(1, maxLengthChanges(fake).size(), "one change: " + maxLengthChanges(fake));
                })
                .thenCancel()
                .verify(VERIFY);
    }

    @Test
    void unboundedDemandSetsTheCeiling() {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).maxLengthBounds(2, 300));
        Disposable running = receiver.receive().subscribe(Packet::accept);
        try {
            Await.until(() -> currentMaxLength(fake) == 300, () -> "ceiling 300, changes " + maxLengthChanges(fake));
            Await.quiet();
            assertEquals(List.of(300), maxLengthChanges(fake));
        } finally {
            running.dispose();
        }
    }

    @Test
    void unresolvedPacketsKeepTheirPlaceAndVerdictsLetTheLengthFall() {
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
            Await.quiet();
            int whileHeld = currentMaxLength(fake);
            assertTrue(whileHeld >= 50 && whileHeld <= 50 + H, "50 unresolved keep ~50: " + whileHeld);

            held.forEach(Packet::accept);
            Await.until(() -> currentMaxLength(fake) <= 1 + H, () -> "no demand, nothing unresolved: down to the "
                    + "floor, changes " + maxLengthChanges(fake));
        } finally {
            s.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void steadyFlowWithUnboundedDemandChangesTheLengthOnce() throws Exception {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive().subscribe(Packet::accept);
        try (SteadyFlow flow = SteadyFlow.start(fake, Q, 1, 10_000, 256)) {
            flow.join();
            assertTrue(fake.awaitVerdicts(10_000, Duration.ofSeconds(20)), "verdicts: " + fake.verdictsApplied());
        } finally {
            running.dispose();
        }
        assertEquals(List.of(1024), maxLengthChanges(fake), "to the ceiling once, then never again");
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void steadyFlowRequestingOneAtATimeCostsNoConfigMessagePerPacket() throws Exception {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        AtomicInteger got = new AtomicInteger();
        BaseSubscriber<Packet> oneByOne = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                request(1);
            }

            @Override
            protected void hookOnNext(Packet p) {
                p.accept();
                got.incrementAndGet();
                request(1);
            }
        };
        receiver.receive().subscribe(oneByOne);
        try (SteadyFlow flow = SteadyFlow.start(fake, Q, 1, 10_000, 256)) {
            flow.join();
            assertTrue(fake.awaitVerdicts(10_000, Duration.ofSeconds(30)), "verdicts: " + fake.verdictsApplied());
        } finally {
            oneByOne.dispose();
        }
        List<Integer> changes = maxLengthChanges(fake);
        assertTrue(changes.size() <= 2, "demand hovers at 1: " + changes.size() + " changes " + changes);
        assertEquals(10_000, got.get());
    }

    @Test
    void steadyFlowThroughLimitRateChangesTheLengthPerReplenishAtMost() throws Exception {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive().limitRate(64).subscribe(Packet::accept);
        int packets = 10_000;
        try (SteadyFlow flow = SteadyFlow.start(fake, Q, 1, packets, 256)) {
            flow.join();
            assertTrue(fake.awaitVerdicts(packets, Duration.ofSeconds(30)), "verdicts: " + fake.verdictsApplied());
        } finally {
            running.dispose();
        }
        // limitRate(64) replenishes 48 at a time: demand swings 16..64, well beyond the hysteresis,
        // so the length moves a few times per replenish. The promise is the hysteresis one: after
        // a change the target must move more than half a hysteresis before the next, so never a
        // change per packet (the bound a target drifting by one packet at a time would reach).
        int changes = maxLengthChanges(fake).size();
        assertTrue(changes <= packets / (H / 2 + 1), changes + " changes for " + packets + " packets");
        assertTrue(maxLengthChanges(fake).stream().allMatch(l -> l <= 64 + H), "never above demand + hysteresis: "
                + maxLengthChanges(fake));
    }

    /**
     * A max-length change the kernel refuses ends the subscription with onError, resolving
     * everything and unbinding. The change may be made inside request(), which must still return
     * normally (§3.16: the only legal way to signal a failure is onError).
     */
    /**
     * A max-length change is refused while the subscriber, inside onNext on the hand-off worker,
     * calls request(): the failing thread must not wait for the emit lock while it holds the
     * max-length lock that request() needs, or both wait forever.
     */
    @Test
    void refusedChangeWhileTheSubscriberRequestsFromOnNextDoesNotDeadlock() throws Exception {
        FakeTransport fake = fakes.next(Q).offerMany(1, 1, Q);
        Scheduler worker = Schedulers.newSingle("maxlen-handoff");
        CountDownLatch inOnNext = new CountDownLatch(1);
        CountDownLatch refusing = new CountDownLatch(1);
        CountDownLatch onNextReturned = new CountDownLatch(1);
        CountDownLatch ended = new CountDownLatch(1);
        List<Throwable> onError = new CopyOnWriteArrayList<>();
        BaseSubscriber<Packet> s = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                subscription.request(1);
            }

            @Override
            protected void hookOnNext(Packet p) {
                p.accept();
                inOnNext.countDown();
                try {
                    refusing.await(5, TimeUnit.SECONDS);
                    Thread.sleep(100); // the refused thread is now on its way to the emit lock
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                request(1000); // needs the max-length lock
                onNextReturned.countDown();
            }

            @Override
            protected void hookOnError(Throwable t) {
                onError.add(t);
                ended.countDown();
            }
        };
        try {
            fakes.receiver(ReceiverOptions.queue(Q).handoff(worker)).receive().subscribe(s);
            assertTrue(inOnNext.await(5, TimeUnit.SECONDS), "the packet reached onNext");
            fake.failConfigure(NativeConstants.get().eperm);
            fake.beforeConfigure(refusing::countDown);
            Thread other = new Thread(() -> s.request(1000), "requester"); // a change the kernel refuses
            other.setDaemon(true);
            other.start();
            assertTrue(onNextReturned.await(5, TimeUnit.SECONDS), "onNext's request() returned: no deadlock");
            assertTrue(ended.await(5, TimeUnit.SECONDS), "the refusal ended the subscription");
            assertInstanceOf(NfQueueException.class, onError.get(0));
            assertEquals("", fakes.exactlyOnceProblems());
        } finally {
            s.dispose();
            worker.dispose();
        }
    }

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
                    subscription.request(8);
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
}
