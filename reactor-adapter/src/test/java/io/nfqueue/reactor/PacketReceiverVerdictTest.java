package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.Verdict;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exactly one verdict per packet, whatever the chain does: cancel, errors, operators that drop
 * or discard elements, and packets the program forgets (the verdict-timeout watchdog).
 */
@Timeout(60)
class PacketReceiverVerdictTest {
    private static final int Q = 4;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final NativeConstants k = NativeConstants.get();
    private final FakeQueues fakes = new FakeQueues();
    private final Scheduler single = Schedulers.newSingle("verdict-test");

    @AfterEach
    void tearDown() {
        single.dispose();
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    @Test
    void cancelGivesEachUnresolvedPacketOneDefaultVerdict() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 15, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).defaultVerdict(Verdict.accept()));

        StepVerifier.create(receiver.receive().doOnNext(p -> {
                    if (p.id() <= 5) {
                        p.drop(); // the program decides the first five
                    }
                }), 15)
                .expectNextCount(15)
                .thenCancel()
                .verify(VERIFY);

        QueueCounters c = receiver.counters().get(0);
        assertEquals(10, c.defaultVerdicts(DefaultVerdictCause.CANCEL), "10 unresolved at cancel: " + c);
        assertEquals(10, c.totalDefaultVerdicts(), "no other default: " + c);
        assertEquals(0, c.unresolved());
        assertEquals("", fakes.exactlyOnceProblems());
        for (int id = 1; id <= 15; id++) {
            int expected = id <= 5 ? k.nfDrop : k.nfAccept; // the default verdict is ACCEPT here
            assertEquals(expected, fake.verdictCodeFor(id), "packet " + id);
        }
        assertTrue(fake.isClosed(), "cancel unbinds");
    }

    /**
     * With unbounded demand the kernel max-length is the ceiling (1024), so the kernel may hold
     * hundreds of packets when the subscriber cancels; the default verdict must reach each of
     * them, not the kernel's unbind (which drops them whatever the default verdict says).
     */
    @Test
    void cancelResolvesEveryPacketTheKernelQueueHolds() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 500, Q); // 10 read, 490 left in the socket
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).maxInFlight(10)
                .defaultVerdict(Verdict.accept()));
        List<Packet> held = new CopyOnWriteArrayList<>();

        Disposable running = receiver.receive().subscribe(held::add);
        Await.until(() -> held.size() == 10, () -> "10 in flight");
        running.dispose();

        QueueCounters c = receiver.counters().get(0);
        assertEquals(10, c.defaultVerdicts(DefaultVerdictCause.CANCEL), c.toString());
        assertEquals(Set.of(), fake.heldAtClose(), "packets left to the kernel's unbind (dropped, not ACCEPTed); "
                + c);
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void filterWithDiscardHookResolvesFilteredPacketsAtOnce() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 30, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive()
                        .filter(p -> p.id() % 2 == 0)
                        .doOnDiscard(Packet.class, p -> p.defaultVerdict(DefaultVerdictCause.DISCARD))
                        .doOnNext(Packet::accept)
                        .take(10))
                .expectNextCount(10)
                .verifyComplete();

        awaitUnbound();
        QueueCounters c = receiver.counters().get(0);
        assertEquals(10, c.defaultVerdicts(DefaultVerdictCause.DISCARD), "odd ids 1..19 discarded by filter: " + c);
        assertEquals(0, c.defaultVerdicts(DefaultVerdictCause.CANCEL), "nothing left unresolved at take's cancel: " + c);
        assertEquals(10, acceptedCount(fake));
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void filterWithoutDiscardHookStillLosesNoVerdict() {
        fakes.next(Q).offerMany(1, 30, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive().filter(p -> p.id() % 3 == 0).doOnNext(Packet::accept).take(5))
                .expectNextCount(5)
                .verifyComplete();

        awaitUnbound();
        // The filtered packets waited, unresolved, until take cancelled: then they got the default.
        assertEquals(10, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.CANCEL));
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void timeoutThenOnErrorResumeLosesNoVerdict() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 3, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        AtomicInteger fallbacks = new AtomicInteger();

        StepVerifier.create(receiver.receive()
                        .doOnNext(p -> {
                            if (p.id() != 3) {
                                p.accept(); // packet 3 is held, unresolved, when the timeout fires
                            }
                        })
                        // Only the silence after packet 3 may time out: a timeout on the first
                        // packet or on a gap would fire if the receive thread were paused.
                        .timeout(Mono.never(), p -> p.id() == 3 ? Mono.delay(Duration.ofMillis(300)) : Mono.never())
                        .onErrorResume(TimeoutException.class, e -> {
                            fallbacks.incrementAndGet();
                            return Flux.empty();
                        }))
                .expectNextCount(3)
                .verifyComplete();

        awaitUnbound();
        assertEquals(1, fallbacks.get());
        assertEquals(1, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.CANCEL));
        assertEquals(2, acceptedCount(fake));
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void publishOnFlatMapLimitRateChainLosesNoVerdict() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 60, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive()
                        .limitRate(7)
                        .publishOn(single, 5)
                        .flatMap(p -> Mono.delay(Duration.ofMillis(p.id() % 3))
                                .doOnNext(x -> {
                                    if (p.id() % 4 != 0) {
                                        p.accept(); // every fourth is left to the default
                                    }
                                })
                                .thenReturn(p), 3)
                        .doOnDiscard(Packet.class, p -> p.defaultVerdict(DefaultVerdictCause.DISCARD))
                        .take(25))
                .expectNextCount(25)
                .verifyComplete();

        // take's cancel may run after its onComplete, on the thread draining flatMap.
        awaitUnbound();
        assertEquals("", fakes.exactlyOnceProblems());
        QueueCounters c = receiver.counters().get(0);
        assertEquals(fake.recordsDelivered(), acceptedCount(fake) + c.totalDefaultVerdicts(),
                "every packet read got a verdict, the program's or the default: " + c);
    }

    @Test
    void exceptionInDownstreamDoOnNextEndsWithDefaults() {
        fakes.next(Q).offerMany(1, 10, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive().doOnNext(p -> {
                    if (p.id() == 4) {
                        throw new IllegalArgumentException("bad packet " + p.id());
                    }
                    p.accept();
                }))
                .expectNextCount(3)
                .expectErrorMessage("bad packet 4")
                .verify(VERIFY);

        awaitUnbound();
        QueueCounters c = receiver.counters().get(0);
        // All 10 were read in one batch (unbounded demand). doOnNext cancels upstream before it
        // signals the error: the packet in hand and the 6 after it get CANCEL.
        assertEquals(7, c.defaultVerdicts(DefaultVerdictCause.CANCEL), c.toString());
        assertEquals(7, c.totalDefaultVerdicts(), c.toString());
        assertEquals("", fakes.exactlyOnceProblems());
        assertTrue(fakes.last(Q).isClosed(), "the error unbinds");
    }

    @Test
    void onErrorResumeAfterAFailingStepResolvesThePacketInHand() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 10, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive()
                        .map(p -> {
                            if (p.id() == 6) {
                                throw new IllegalStateException("parser failed");
                            }
                            p.accept();
                            return p.id();
                        })
                        .onErrorResume(e -> Mono.just(-1)))
                .expectNext(1, 2, 3, 4, 5, -1)
                .verifyComplete();

        awaitUnbound();
        assertEquals(5, acceptedCount(fake));
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /**
     * A subscriber that breaks §2.13 (its onNext throws): the adapter gives that packet the
     * default verdict (ERROR), ends the subscription with onError, and resolves the rest.
     */
    @Test
    void subscriberThrowingFromOnNextGetsOnErrorAndPacketsGetDefaults() {
        fakes.next(Q).offerMany(1, 10, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        RecordingSubscriber s = new RecordingSubscriber(2);

        List<Throwable> dropped = new CopyOnWriteArrayList<>();
        Hooks.onErrorDropped(dropped::add);
        try {
            receiver.receive().subscribe(s);
            Await.until(() -> !s.errors.isEmpty() || !dropped.isEmpty(), () -> "onError after the throwing onNext");
            Await.quiet();
        } finally {
            Hooks.resetOnErrorDropped();
        }
        assertEquals(List.of(), dropped, "the error went to onErrorDropped instead of the subscriber; counters "
                + receiver.counters());

        assertEquals(2, s.nexts.get(), "no onNext after the one that threw");
        assertEquals(1, s.errors.size(), "one onError: " + s.errors);
        assertEquals("subscriber bug", rootCause(s.errors.get(0)).getMessage());
        QueueCounters c = receiver.counters().get(0);
        assertTrue(c.defaultVerdicts(DefaultVerdictCause.ERROR) >= 2, "the packet in hand and the held one: " + c);
        assertEquals("", fakes.exactlyOnceProblems());
        assertTrue(fakes.last(Q).isClosed());
    }

    @Test
    void verdictTimeoutResolvesForgottenPacketsWhileTheSubscriptionGoesOn() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 5, Q);
        // Longer than a pause (GC, a loaded machine) between the delivery and the check that no
        // verdict came yet.
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).verdictTimeout(Duration.ofSeconds(2)));
        List<Packet> forgotten = new CopyOnWriteArrayList<>();

        Disposable running = receiver.receive().subscribe(p -> {
            if (p.id() <= 5) {
                forgotten.add(p); // never resolved by the program
            } else {
                p.accept();
            }
        });
        try {
            Await.until(() -> forgotten.size() == 5, () -> "5 delivered");
            Await.sleep(100);
            assertEquals(0, fake.verdictsApplied(), "no verdict before the timeout");
            Await.until(() -> fake.verdictsApplied() == 5, () -> "watchdog verdicts, sent: " + fake.sent());
            assertEquals(5, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.TIMEOUT));
            IllegalStateException late = assertThrows(IllegalStateException.class, () -> forgotten.get(0).accept());
            assertTrue(late.getMessage().contains("TIMEOUT"), late.getMessage());

            fake.offerMany(6, 5, Q);
            Await.until(() -> fake.verdictsApplied() == 10, () -> "the subscription goes on: " + fake.verdictsApplied());
            assertFalse(fake.isClosed(), "the watchdog does not end the subscription");
        } finally {
            running.dispose();
        }
        assertEquals(5, acceptedCount(fake));
        assertEquals(5, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.TIMEOUT));
        assertEquals("", fakes.exactlyOnceProblems());
    }

    private void awaitUnbound() {
        FakeTransport fake = fakes.last(Q);
        Await.until(fake::isClosed, () -> "the subscription's end unbinds the queue");
    }

    /** Packets the fake kernel saw accepted (a batch record counts for each id it covered). */
    private int acceptedCount(FakeTransport fake) {
        int n = 0;
        for (int id : fake.verdictCounts().keySet()) {
            Integer code = fake.verdictCodeFor(id);
            if (code != null && (code & 0xffff) == k.nfAccept) {
                n++;
            }
        }
        return n;
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * A subscriber whose onNext throws on the n-th element (a §2.13 breach). A CoreSubscriber, so
     * that Reactor does not wrap it in its StrictSubscriber (which, once an onNext threw, keeps
     * any later signal from reaching it) and the adapter's own handling is what is tested.
     */
    private static final class RecordingSubscriber implements CoreSubscriber<Packet> {
        final int throwAt;
        final AtomicInteger nexts = new AtomicInteger();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();

        RecordingSubscriber(int throwAt) {
            this.throwAt = throwAt;
        }

        @Override
        public void onSubscribe(Subscription s) {
            s.request(10);
        }

        @Override
        public void onNext(Packet p) {
            if (nexts.incrementAndGet() == throwAt) {
                throw new IllegalStateException("subscriber bug");
            }
        }

        @Override
        public void onError(Throwable t) {
            errors.add(t);
        }

        @Override
        public void onComplete() {
            errors.add(new AssertionError("onComplete on an infinite source"));
        }
    }
}
