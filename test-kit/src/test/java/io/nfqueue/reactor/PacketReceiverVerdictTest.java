package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import io.nfqueue.test.GivenVerdict;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static io.nfqueue.DefaultVerdictCause.CANCEL;
import static io.nfqueue.DefaultVerdictCause.CLOSE;
import static io.nfqueue.DefaultVerdictCause.DISCARD;
import static io.nfqueue.DefaultVerdictCause.ERROR;
import static io.nfqueue.DefaultVerdictCause.TIMEOUT;
import static io.nfqueue.reactor.KitPackets.offerUdp;
import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.anyVerdict;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exactly one verdict per packet, whatever the chain does: cancel, errors, operators that drop
 * or discard elements, and packets the program forgets (the verdict-timeout watchdog). On the
 * test kit's queue: what each packet got, and who gave it why.
 */
@Timeout(60)
@ExtendWith(StallWarningGuard.class)
class PacketReceiverVerdictTest {
    private static final int Q = 4;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final TestQueue queue = TestQueue.create(Q).waitAtMost(VERIFY);
    private final Scheduler single = Schedulers.newSingle("verdict-test");

    @AfterEach
    void tearDown() {
        single.dispose();
        assertEquals(List.of(), queue.transportViolations(), "transport threading contract");
    }

    @Test
    void cancelGivesEachUnresolvedPacketOneDefaultVerdict() {
        offerUdp(queue, 15);
        PacketReceiver receiver = queue.receiver(ReceiverOptions.queue(Q).defaultVerdict(Verdict.accept()));

        StepVerifier.create(receiver.receive().doOnNext(p -> {
                    if (p.id() <= 5) {
                        p.drop(); // the program decides the first five
                    }
                }), 15)
                .expectNextCount(15)
                .thenCancel()
                .verify(VERIFY);

        // The default verdict is ACCEPT here.
        queue.expectVerdicts(p -> p.id() <= 5 ? dropped() : accepted().byDefault(CANCEL));
        assertEquals(0, receiver.counters().get(0).unresolved());
        assertFalse(queue.isBound(), "cancel unbinds");
    }

    /**
     * With unbounded demand the kernel max-length is the ceiling (1024), so the kernel may hold
     * hundreds of packets when the subscriber cancels; the default verdict must reach each of
     * them, not the kernel's unbind (which drops them whatever the default verdict says: the
     * kit's queue reports such a packet as dropped by the kernel, with no verdict).
     */
    @Test
    void cancelResolvesEveryPacketTheKernelQueueHolds() {
        offerUdp(queue, 500); // 10 read, 490 left in the socket
        PacketReceiver receiver = queue.receiver(ReceiverOptions.queue(Q).maxInFlight(10)
                .defaultVerdict(Verdict.accept()));
        List<Packet> held = new CopyOnWriteArrayList<>();

        Disposable running = receiver.receive().subscribe(held::add);
        Await.until(() -> held.size() == 10, () -> "10 in flight");
        running.dispose();

        queue.expectVerdicts(p -> accepted().byDefault(p.id() <= 10 ? CANCEL : CLOSE));
    }

    @Test
    void filterWithDiscardHookResolvesFilteredPacketsAtOnce() {
        offerUdp(queue, 30);

        StepVerifier.create(queue.receiver().receive()
                        .filter(p -> p.id() % 2 == 0)
                        .doOnDiscard(Packet.class, p -> p.defaultVerdict(DISCARD))
                        .doOnNext(Packet::accept)
                        .take(10))
                .expectNextCount(10)
                .expectComplete()
                .verify(VERIFY);

        awaitUnbound();
        // 1..20 read: the even ones accepted, the odd ones discarded by filter; nothing was left
        // unresolved at take's cancel; 21..30 were never requested, so close resolved them.
        queue.expectVerdicts(p -> p.id() > 20 ? defaultVerdict(CLOSE) : p.id() % 2 == 0 ? accepted()
                : defaultVerdict(DISCARD));
    }

    @Test
    void filterWithoutDiscardHookStillLosesNoVerdict() {
        offerUdp(queue, 30);

        StepVerifier.create(queue.receiver().receive().filter(p -> p.id() % 3 == 0).doOnNext(Packet::accept).take(5))
                .expectNextCount(5)
                .expectComplete()
                .verify(VERIFY);

        awaitUnbound();
        // The filtered packets waited, unresolved, until take cancelled: then they got the default.
        queue.expectVerdicts(p -> p.id() > 15 ? defaultVerdict(CLOSE) : p.id() % 3 == 0 ? accepted()
                : defaultVerdict(CANCEL));
    }

    @Test
    void timeoutThenOnErrorResumeLosesNoVerdict() {
        offerUdp(queue, 3);
        AtomicInteger fallbacks = new AtomicInteger();

        StepVerifier.create(queue.receiver().receive()
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
                .expectComplete()
                .verify(VERIFY);

        awaitUnbound();
        assertEquals(1, fallbacks.get());
        queue.expectVerdicts(accepted(), accepted(), defaultVerdict(CANCEL));
    }

    @Test
    void publishOnFlatMapLimitRateChainLosesNoVerdict() {
        offerUdp(queue, 60);

        StepVerifier.create(queue.receiver().receive()
                        .limitRate(7)
                        .publishOn(single, 5)
                        .flatMap(p -> Mono.delay(Duration.ofMillis(p.id() % 3))
                                .doOnNext(x -> {
                                    if (p.id() % 4 != 0) {
                                        p.accept(); // every fourth is left to the default
                                    }
                                })
                                .thenReturn(p), 3)
                        .doOnDiscard(Packet.class, p -> p.defaultVerdict(DISCARD))
                        .take(25))
                .expectNextCount(25)
                .expectComplete()
                .verify(VERIFY);

        // take's cancel may run after its onComplete, on the thread draining flatMap.
        awaitUnbound();
        // Every packet got a verdict, the program's or the default, exactly once.
        queue.expectVerdicts(p -> anyVerdict());
        assertTrue(queue.verdicts().stream().filter(g -> g.packet().id() % 4 == 0).noneMatch(GivenVerdict::byProgram),
                "every fourth is left to the default: " + queue.verdicts());
    }

    @Test
    void exceptionInDownstreamDoOnNextEndsWithDefaults() {
        offerUdp(queue, 10);

        StepVerifier.create(queue.receiver().receive().doOnNext(p -> {
                    if (p.id() == 4) {
                        throw new IllegalArgumentException("bad packet " + p.id());
                    }
                    p.accept();
                }))
                .expectNextCount(3)
                .expectErrorMessage("bad packet 4")
                .verify(VERIFY);

        awaitUnbound();
        // All 10 were read in one batch (unbounded demand). doOnNext cancels upstream before it
        // signals the error: the packet in hand and the 6 after it get CANCEL.
        queue.expectVerdicts(p -> p.id() <= 3 ? accepted() : defaultVerdict(CANCEL));
    }

    @Test
    void onErrorResumeAfterAFailingStepResolvesThePacketInHand() {
        offerUdp(queue, 10);

        StepVerifier.create(queue.receiver().receive()
                        .map(p -> {
                            if (p.id() == 6) {
                                throw new IllegalStateException("parser failed");
                            }
                            p.accept();
                            return p.id();
                        })
                        .onErrorResume(e -> Mono.just(-1)))
                .expectNext(1, 2, 3, 4, 5, -1)
                .expectComplete()
                .verify(VERIFY);

        awaitUnbound();
        queue.expectVerdicts(p -> p.id() <= 5 ? accepted() : defaultVerdict(CANCEL));
    }

    /**
     * A subscriber that breaks §2.13 (its onNext throws): the adapter gives that packet the
     * default verdict (ERROR), ends the subscription with onError, and resolves the rest.
     */
    @Test
    void subscriberThrowingFromOnNextGetsOnErrorAndPacketsGetDefaults() {
        offerUdp(queue, 10);
        RecordingSubscriber s = new RecordingSubscriber(2);

        List<Throwable> dropped = new CopyOnWriteArrayList<>();
        Hooks.onErrorDropped(dropped::add);
        try {
            queue.receiver().receive().subscribe(s);
            Await.until(() -> !s.errors.isEmpty() || !dropped.isEmpty(), () -> "onError after the throwing onNext");
            Await.quiet();
        } finally {
            Hooks.resetOnErrorDropped();
        }
        assertEquals(List.of(), dropped, "the error went to onErrorDropped instead of the subscriber; " + queue);

        assertEquals(2, s.nexts.get(), "no onNext after the one that threw");
        assertEquals(1, s.errors.size(), "one onError: " + s.errors);
        assertEquals("subscriber bug", rootCause(s.errors.get(0)).getMessage());
        // The packet held and the packet in hand get ERROR; the rest the default verdict too.
        assertTrue(queue.awaitVerdicts(10, VERIFY), queue.verdicts().toString());
        queue.expectVerdicts(p -> p.id() <= 2 ? defaultVerdict(ERROR) : anyVerdict());
        assertTrue(queue.verdicts().stream().noneMatch(GivenVerdict::byProgram), queue.verdicts().toString());
        assertFalse(queue.isBound());
    }

    /**
     * On virtual time: the five forgotten packets get nothing for two seconds, then the default
     * verdict for TIMEOUT, and the subscription goes on with the next packets.
     */
    @Test
    void verdictTimeoutResolvesForgottenPacketsWhileTheSubscriptionGoesOn() {
        ReceiverOptions options = ReceiverOptions.queue(Q).verdictTimeout(Duration.ofSeconds(2));
        List<Packet> forgotten = new CopyOnWriteArrayList<>();

        StepVerifier.withVirtualTime(() -> queue.receiver(options).receive().doOnNext(p -> {
                    if (p.id() <= 5) {
                        forgotten.add(p); // never resolved by the program
                    } else {
                        p.accept();
                    }
                }))
                .then(() -> offerUdp(queue, 5))
                .expectNextCount(5)
                .thenAwait(Duration.ofMillis(1900))
                .then(() -> assertEquals(List.of(), queue.verdicts(), "no verdict before the timeout"))
                .thenAwait(Duration.ofMillis(200))
                .then(() -> queue.expectVerdicts(p -> defaultVerdict(TIMEOUT)))
                .then(() -> {
                    IllegalStateException late = assertThrows(IllegalStateException.class, () -> forgotten.get(0).accept());
                    assertTrue(late.getMessage().contains("TIMEOUT"), late.getMessage());
                })
                .then(() -> offerUdp(queue, 5))
                .expectNextCount(5)
                .then(() -> queue.expectVerdicts(p -> p.id() <= 5 ? defaultVerdict(TIMEOUT) : accepted()))
                .then(() -> assertTrue(queue.isBound(), "the watchdog does not end the subscription"))
                .thenCancel()
                .verify(Duration.ofSeconds(30));
        assertEquals("", queue.exactlyOnceProblems());
    }

    private void awaitUnbound() {
        Await.until(() -> !queue.isBound(), () -> "the subscription's end unbinds the queue");
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
