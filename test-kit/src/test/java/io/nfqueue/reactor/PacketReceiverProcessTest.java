package io.nfqueue.reactor;

import io.nfqueue.Verdict;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static io.nfqueue.DefaultVerdictCause.CANCEL;
import static io.nfqueue.DefaultVerdictCause.HANDLER_ERROR;
import static io.nfqueue.DefaultVerdictCause.TIMEOUT;
import static io.nfqueue.reactor.KitPackets.offerUdp;
import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verdicts as return values: {@code process} and {@code processAsync} give each packet the
 * verdict its function returned, and the default verdict when the function fails, returns
 * nothing, or (async) takes longer than the verdict timeout. On the test kit's queue.
 */
@Timeout(60)
@ExtendWith(StallWarningGuard.class)
class PacketReceiverProcessTest {
    private static final int Q = 11;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final TestQueue queue = TestQueue.create(Q).waitAtMost(VERIFY);

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), queue.transportViolations(), "transport threading contract");
    }

    @Test
    void processGivesTheReturnedVerdict() {
        offerUdp(queue, 10);

        StepVerifier.create(queue.receiver().process(p -> p.id() % 2 == 0 ? Verdict.accept() : Verdict.drop().withMark(7))
                        .take(10))
                .thenConsumeWhile(r -> {
                    assertTrue(r.packet().isResolved(), "resolved before it is emitted");
                    assertFalse(r.byDefault());
                    assertTrue(r.failure().isEmpty());
                    return true;
                })
                .expectComplete()
                .verify(VERIFY);

        queue.expectVerdicts(p -> p.id() % 2 == 0 ? accepted().unchanged() : dropped().withMark(7));
    }

    @Test
    void processTurnsExceptionsAndNullIntoTheDefaultVerdict() {
        offerUdp(queue, 3);
        PacketReceiver receiver = queue.receiver(ReceiverOptions.queue(Q).defaultVerdict(Verdict.accept()));

        StepVerifier.create(receiver.process(p -> {
                    if (p.id() == 1) {
                        throw new IllegalArgumentException("cannot parse");
                    }
                    return p.id() == 2 ? null : Verdict.drop();
                }).take(3))
                .assertNext(r -> {
                    assertTrue(r.byDefault());
                    assertEquals(Verdict.accept(), r.verdict());
                    assertInstanceOf(IllegalArgumentException.class, r.error());
                })
                .assertNext(r -> {
                    assertTrue(r.byDefault());
                    assertInstanceOf(NullPointerException.class, r.error());
                })
                .assertNext(r -> assertEquals(Verdict.drop(), r.verdict()))
                .expectComplete()
                .verify(VERIFY);

        queue.expectVerdicts(accepted().byDefault(HANDLER_ERROR), accepted().byDefault(HANDLER_ERROR), dropped());
    }

    @Test
    void processKeepsAVerdictTheFunctionGaveItself() {
        offerUdp(queue, 1);

        StepVerifier.create(queue.receiver().process(p -> {
                    p.accept();
                    return Verdict.drop(); // too late: the accept stands
                }).take(1))
                .assertNext(r -> {
                    assertNull(r.verdict(), "the returned verdict was not applied");
                    assertInstanceOf(IllegalStateException.class, r.error());
                })
                .expectComplete()
                .verify(VERIFY);
        queue.expectVerdicts(accepted());
    }

    /**
     * On virtual time: an answer after 20 ms is the packet's verdict, a failed or empty one the
     * default at once, and no answer the default for TIMEOUT after the 3 s verdict timeout, not
     * before.
     */
    @Test
    void processAsyncMapsErrorsEmptinessAndTimeoutsToTheDefault() {
        ReceiverOptions options = ReceiverOptions.queue(Q).verdictTimeout(Duration.ofSeconds(3));
        AtomicInteger decided = new AtomicInteger();

        StepVerifier.withVirtualTime(() -> queue.receiver(options).processAsync(p -> {
                    decided.incrementAndGet();
                    switch (p.id()) {
                        case 1:
                            return Mono.delay(Duration.ofMillis(20)).thenReturn(Verdict.accept());
                        case 2:
                            return Mono.error(new IllegalStateException("lookup failed"));
                        case 3:
                            return Mono.empty();
                        default:
                            return Mono.never();
                    }
                }, 4).take(4).collectSortedList((a, b) -> a.packet().id() - b.packet().id()))
                .then(() -> offerUdp(queue, 4))
                .then(() -> Await.until(() -> decided.get() == 4, () -> "4 decisions asked for"))
                .thenAwait(Duration.ofMillis(100))
                .then(() -> assertTrue(queue.awaitVerdicts(3, VERIFY), queue.verdicts().toString()))
                .thenAwait(Duration.ofMillis(2800))
                .then(() -> assertEquals(3, queue.verdicts().size(), "the fourth waits for the timeout"))
                .thenAwait(Duration.ofSeconds(1))
                .assertNext(results -> {
                    assertEquals(Verdict.accept(), results.get(0).verdict());
                    assertFalse(results.get(0).byDefault());
                    assertInstanceOf(IllegalStateException.class, results.get(1).error());
                    assertInstanceOf(NoSuchElementException.class, results.get(2).error());
                    assertInstanceOf(TimeoutException.class, results.get(3).error());
                    assertTrue(results.get(3).packet().isResolved());
                })
                .expectComplete()
                .verify(VERIFY);

        // The packet with no answer is resolved by the async timeout or by the receiver's watchdog,
        // whichever comes first; either way once, under TIMEOUT.
        queue.expectVerdicts(accepted(), defaultVerdict(HANDLER_ERROR), defaultVerdict(HANDLER_ERROR),
                defaultVerdict(TIMEOUT));
    }

    @Test
    void processAsyncRunsAtMostConcurrencyDecisionsAtOnce() {
        offerUdp(queue, 30);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();

        // A decision runs from its subscription to its value: flatMap asks for the next packet
        // only after a value, so counting down in doOnNext (not doFinally, which runs after the
        // completion has already let flatMap request more) measures the limit itself.
        StepVerifier.create(queue.receiver().processAsync(p -> Mono.delay(Duration.ofMillis(5))
                        .thenReturn(Verdict.accept())
                        .doOnSubscribe(s -> peak.accumulateAndGet(running.incrementAndGet(), Math::max))
                        .doOnNext(v -> running.decrementAndGet()), 3).take(30))
                .expectNextCount(30)
                .expectComplete()
                .verify(VERIFY);

        assertTrue(peak.get() <= 3 && peak.get() >= 2, "peak concurrency " + peak.get());
        queue.expectVerdicts(p -> accepted());
    }

    @Test
    void processAsyncCancelledWhileDecisionsPendResolvesThem() {
        offerUdp(queue, 5);

        StepVerifier.create(queue.receiver().processAsync(p -> Mono.<Verdict>never(), 5))
                .expectSubscription()
                .then(() -> Await.until(() -> queue.unread() == 0, () -> "5 pending decisions"))
                .thenCancel()
                .verify(VERIFY);

        queue.expectVerdicts(p -> defaultVerdict(CANCEL));
    }

    @Test
    void processAsyncRejectsANonPositiveConcurrency() {
        PacketReceiver receiver = queue.receiver();
        assertThrows(IllegalArgumentException.class, () -> receiver.processAsync(p -> Mono.just(Verdict.accept()), 0));
    }
}
