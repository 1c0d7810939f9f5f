package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.nfqueue.DefaultVerdictCause.DISCARD;
import static io.nfqueue.DefaultVerdictCause.HANDLER_ERROR;
import static io.nfqueue.DefaultVerdictCause.TIMEOUT;
import static io.nfqueue.reactor.KitPackets.offerUdp;
import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Composition is safe by default: the safe form ({@code receive(pipeline)}) and the
 * {@code Verdicts.resolveDropped()} transformer resolve what the pipeline filters or throws for
 * at once; the plain form strands it until the verdict timeout, and says so. On the test kit's
 * queue: each packet's verdict, and who gave it why, is asserted one by one.
 */
@Timeout(60)
@ExtendWith(StallWarningGuard.class)
class PacketReceiverSafeCompositionTest {
    private static final int Q = 31;
    private static final int PACKETS = 3000;
    private final TestQueue queue = TestQueue.create(Q).waitAtMost(Duration.ofSeconds(10));

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), queue.transportViolations(), "transport threading contract");
    }

    /**
     * While the subscription goes on (not at its end, and within the 5 s verdict timeout): the
     * kept half gets the pipeline's ACCEPT, the other half the default verdict for DISCARD.
     */
    @Test
    void theSafeFormResolvesWhatFilterDropsAtOnce() {
        offerUdp(queue, PACKETS);
        PacketReceiver receiver = queue.receiver();
        Disposable running = receiver.receive(packets -> packets
                        .filter(p -> p.id() % 2 == 0)
                        .doOnNext(Packet::accept))
                .subscribe();
        try {
            queue.expectVerdicts(p -> p.id() % 2 == 0 ? accepted() : defaultVerdict(DISCARD));
            assertEquals(0, receiver.counters().get(0).unresolved(), receiver.counters().toString());
            assertTrue(queue.isBound(), "the subscription goes on");
        } finally {
            running.dispose();
        }
        assertEquals("", queue.exactlyOnceProblems());
    }

    @Test
    void theTransformerDoesTheSameForAChainYouSubscribeYourself() {
        offerUdp(queue, PACKETS);
        // distinct keeps the first packet of each id % 7 among those filter lets through.
        List<Integer> kept = List.of(1, 2, 4, 5, 7, 10, 13);
        Disposable running = queue.receive()
                .filter(p -> p.id() % 3 != 0)
                .distinct(p -> p.id() % 7)
                .transform(Verdicts.resolveDropped())
                .subscribe(Packet::accept);
        try {
            queue.expectVerdicts(p -> kept.contains(p.id()) ? accepted() : defaultVerdict(DISCARD));
        } finally {
            running.dispose();
        }
        assertEquals("", queue.exactlyOnceProblems());
    }

    /** An operator that throws for one packet in ten: that packet gets the default verdict, the rest go on. */
    @Test
    void theSafeFormGoesOnAfterAnErrorAndResolvesTheFailedPacket() {
        offerUdp(queue, PACKETS);
        Disposable running = queue.receive(packets -> packets
                        .map(p -> {
                            if (p.id() % 10 == 0) {
                                throw new IllegalStateException("cannot inspect packet " + p.id());
                            }
                            return p;
                        })
                        .doOnNext(Packet::accept))
                .subscribe();
        try {
            queue.expectVerdicts(p -> p.id() % 10 == 0 ? defaultVerdict(HANDLER_ERROR) : accepted());
            assertTrue(queue.isBound(), "the subscription went on");
        } finally {
            running.dispose();
        }
        assertEquals("", queue.exactlyOnceProblems());
    }

    /** Lists of packets (buffer) are looked into: a buffer that throws resolves all of its packets. */
    @Test
    void aFailedBufferResolvesEveryPacketInIt() {
        offerUdp(queue, 100);
        Disposable running = queue.receive(packets -> packets
                        .buffer(10)
                        .map(list -> {
                            if (list.get(0).id() == 41) {
                                throw new IllegalStateException("this batch fails");
                            }
                            return list;
                        })
                        .doOnNext(list -> list.forEach(Packet::accept)))
                .subscribe();
        try {
            queue.expectVerdicts(p -> p.id() >= 41 && p.id() <= 50 ? defaultVerdict(HANDLER_ERROR) : accepted());
        } finally {
            running.dispose();
        }
    }

    /**
     * The plain form with a filter and nothing else: what the filter drops is stranded. Reading
     * stops at maxInFlight, the stall warning (after a second there) says why and what to do, the
     * verdict timeout frees the stranded packets, and reading goes on: slow, bounded, and loud,
     * never stuck for good. On virtual time: the second and the timeouts pass at once.
     */
    @Test
    @ExpectsStallWarning(required = true)
    void thePlainFormStrandsWhatFilterDropsUntilTheTimeoutAndWarns() {
        ReceiverOptions options = ReceiverOptions.queue(Q).maxInFlight(100).verdictTimeout(Duration.ofSeconds(3));
        AtomicInteger kept = new AtomicInteger();
        VirtualTimeScheduler clock = VirtualTimeScheduler.getOrSet();
        try {
            PacketReceiver receiver = queue.receiver(options); // made while virtual time is installed: runs on it
            Disposable running = receiver.receive()
                    .filter(p -> p.id() % 2 == 0)
                    .subscribe(p -> {
                        kept.incrementAndGet();
                        p.accept();
                    });
            try {
                offerUdp(queue, 600);
                // The even ones accepted, the odd ones stranded until 100 wait: reading stops.
                Await.until(() -> unresolved() == 100, () -> "reading stopped at maxInFlight: " + queue.backpressure());
                clock.advanceTimeBy(Duration.ofMillis(900));
                assertEquals(0, queue.backpressure().orElseThrow().readingStalls(), "not a second yet");
                clock.advanceTimeBy(Duration.ofMillis(200));
                assertEquals(1, queue.backpressure().orElseThrow().readingStalls());
                List<String> warnings = StallWarningGuard.warnings();
                assertEquals(1, warnings.size(), warnings.toString());
                String w = warnings.get(0);
                assertTrue(w.contains("queue " + Q) && w.contains("100 packets (maxInFlight)") && w.contains("the oldest for")
                        && w.contains("receiver.receive(packets -> ...)") && w.contains("Verdicts.resolveDropped()"), w);
                assertEquals(kept.get(), queue.verdicts().size(), "the stranded ones wait without a verdict");
                advanceUntilEveryPacketHasAVerdict(clock, 600);
            } finally {
                running.dispose();
            }
        } finally {
            VirtualTimeScheduler.reset();
        }
        queue.expectVerdicts(p -> p.id() % 2 == 0 ? accepted() : defaultVerdict(TIMEOUT));
        assertEquals(300, kept.get());
        assertEquals("", queue.exactlyOnceProblems());
    }

    private int unresolved() {
        return queue.backpressure().map(QueueBackpressure::unresolved).orElse(-1);
    }

    /**
     * Moves the virtual clock on a second at a time, each time after the receive thread has read
     * what the last timeouts made room for, until {@code count} packets have their verdict.
     * Bounded: 60 virtual seconds, each step at most 5 s of real time.
     */
    private void advanceUntilEveryPacketHasAVerdict(VirtualTimeScheduler clock, int count) {
        for (int s = 0; s < 60 && queue.verdicts().size() < count; s++) {
            int before = queue.verdicts().size();
            clock.advanceTimeBy(Duration.ofSeconds(1));
            if (queue.verdicts().size() > before) {
                // Timeouts freed room: let the receive thread read, and strand, the next ones first.
                Await.until(() -> queue.unread() == 0 || unresolved() == 100, () -> "reading resumed: " + queue.backpressure());
            }
        }
        assertEquals(count, queue.verdicts().size(), "every packet has a verdict after the timeouts");
    }

    /**
     * A pipeline that holds its packets for three seconds, far past the second that makes a
     * stall, but below maxInFlight: that is no stall, so no warning (the guard fails the test if
     * one fires).
     */
    @Test
    void noWarningWithoutAStall() {
        ReceiverOptions options = ReceiverOptions.queue(Q).maxInFlight(100);
        StepVerifier.withVirtualTime(() -> queue.receive(options, packets -> packets
                        .flatMap(p -> Mono.delay(Duration.ofSeconds(3)).doOnNext(x -> p.accept()))))
                .then(() -> offerUdp(queue, 50))
                .then(queue::awaitDelivered)
                .thenAwait(Duration.ofSeconds(2))
                .then(() -> {
                    assertEquals(List.of(), queue.verdicts(), "all 50 still held");
                    assertEquals(50, queue.backpressure().orElseThrow().unresolved());
                })
                .thenAwait(Duration.ofSeconds(2))
                .expectNextCount(50)
                .then(() -> queue.expectVerdicts(p -> accepted()))
                .then(() -> assertEquals(0, queue.backpressure().orElseThrow().readingStalls()))
                .thenCancel()
                .verify(Duration.ofSeconds(30));
    }

    /** The safe form's result composes like any Flux: here the pipeline emits strings. */
    @Test
    void theSafeFormEmitsWhatThePipelineEmits() {
        offerUdp(queue, 5);
        List<String> out = queue.receive(packets -> packets
                        .doOnNext(Packet::accept)
                        .map(p -> "packet " + p.id()))
                .take(5)
                .collectList()
                .block(Duration.ofSeconds(10));
        assertEquals(List.of("packet 1", "packet 2", "packet 3", "packet 4", "packet 5"), out);
        queue.expectVerdicts(p -> accepted());
        assertFalse(queue.isBound(), "take(5) ended the subscription");
    }
}
