package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.QueueCounters;
import io.nfqueue.Verdict;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verdicts as return values: {@code process} and {@code processAsync} give each packet the
 * verdict its function returned, and the default verdict when the function fails, returns
 * nothing, or (async) takes longer than the verdict timeout.
 */
@Timeout(60)
class PacketReceiverProcessTest {
    private static final int Q = 11;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final NativeConstants k = NativeConstants.get();
    private final FakeQueues fakes = new FakeQueues();

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    @Test
    void processGivesTheReturnedVerdict() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 10, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.process(p -> p.id() % 2 == 0 ? Verdict.accept() : Verdict.drop().withMark(7))
                        .take(10))
                .thenConsumeWhile(r -> {
                    assertTrue(r.packet().isResolved(), "resolved before it is emitted");
                    assertFalse(r.byDefault());
                    assertTrue(r.failure().isEmpty());
                    return true;
                })
                .verifyComplete();

        Await.until(fake::isClosed, () -> "unbound");
        for (int id = 1; id <= 10; id++) {
            assertEquals(id % 2 == 0 ? k.nfAccept : k.nfDrop, fake.lastVerdictFor(id).baseVerdict(), "packet " + id);
        }
        assertEquals(7, fake.lastVerdictFor(1).mark().getAsInt(), "the returned verdict's mark");
        assertEquals(0, receiver.counters().get(0).totalDefaultVerdicts());
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void processTurnsExceptionsAndNullIntoTheDefaultVerdict() {
        fakes.next(Q).offerMany(1, 3, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).defaultVerdict(Verdict.accept()));

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
                .verifyComplete();

        Await.until(() -> fakes.last(Q).isClosed(), () -> "unbound");
        assertEquals(2, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR));
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void processKeepsAVerdictTheFunctionGaveItself() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 1, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.process(p -> {
                    p.accept();
                    return Verdict.drop(); // too late: the accept stands
                }).take(1))
                .assertNext(r -> {
                    assertNull(r.verdict(), "the returned verdict was not applied");
                    assertInstanceOf(IllegalStateException.class, r.error());
                })
                .verifyComplete();
        Await.until(fake::isClosed, () -> "unbound");
        assertEquals(k.nfAccept, fake.lastVerdictFor(1).baseVerdict());
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void processAsyncMapsErrorsEmptinessAndTimeoutsToTheDefault() {
        fakes.next(Q).offerMany(1, 4, Q);
        // Far longer than packet 1's 20 ms answer, so a pause (GC, a loaded machine) cannot let the
        // timeout win that race; packet 4 (Mono.never()) still waits it out.
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).verdictTimeout(Duration.ofSeconds(3)));

        StepVerifier.create(receiver.processAsync(p -> {
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
                .assertNext(results -> {
                    assertEquals(Verdict.accept(), results.get(0).verdict());
                    assertFalse(results.get(0).byDefault());
                    assertInstanceOf(IllegalStateException.class, results.get(1).error());
                    assertInstanceOf(NoSuchElementException.class, results.get(2).error());
                    assertInstanceOf(TimeoutException.class, results.get(3).error());
                    assertTrue(results.get(3).packet().isResolved());
                })
                .verifyComplete();

        Await.until(() -> fakes.last(Q).isClosed(), () -> "unbound");
        QueueCounters c = receiver.counters().get(0);
        assertEquals(2, c.defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR), c.toString());
        // The packet with no answer is resolved by the async timeout or by the receiver's watchdog,
        // whichever comes first; either way once, under TIMEOUT.
        assertEquals(1, c.defaultVerdicts(DefaultVerdictCause.TIMEOUT), c.toString());
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void processAsyncRunsAtMostConcurrencyDecisionsAtOnce() {
        fakes.next(Q).offerMany(1, 30, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        AtomicInteger running = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();

        // A decision runs from its subscription to its value: flatMap asks for the next packet
        // only after a value, so counting down in doOnNext (not doFinally, which runs after the
        // completion has already let flatMap request more) measures the limit itself.
        StepVerifier.create(receiver.processAsync(p -> Mono.delay(Duration.ofMillis(5))
                        .thenReturn(Verdict.accept())
                        .doOnSubscribe(s -> peak.accumulateAndGet(running.incrementAndGet(), Math::max))
                        .doOnNext(v -> running.decrementAndGet()), 3).take(30))
                .expectNextCount(30)
                .verifyComplete();

        assertTrue(peak.get() <= 3 && peak.get() >= 2, "peak concurrency " + peak.get());
        Await.until(() -> fakes.last(Q).isClosed(), () -> "unbound");
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void processAsyncCancelledWhileDecisionsPendResolvesThem() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 5, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.processAsync(p -> Mono.<Verdict>never(), 5))
                .expectSubscription()
                .then(() -> Await.until(() -> fake.recordsDelivered() == 5, () -> "5 pending decisions"))
                .thenCancel()
                .verify(VERIFY);

        assertEquals(5, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.CANCEL));
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void processAsyncRejectsANonPositiveConcurrency() {
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        assertThrows(IllegalArgumentException.class, () -> receiver.processAsync(p -> Mono.just(Verdict.accept()), 0));
    }
}
