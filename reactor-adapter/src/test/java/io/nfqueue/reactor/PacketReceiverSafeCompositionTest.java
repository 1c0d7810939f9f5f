package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import io.nfqueue.reactor.internal.Timings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Composition is safe by default: the safe form ({@code receive(pipeline)}) and the
 * {@code Verdicts.resolveDropped()} transformer resolve what the pipeline filters or throws for
 * at once; the plain form strands it until the verdict timeout, and says so.
 */
@Timeout(60)
class PacketReceiverSafeCompositionTest {
    private static final int Q = 31;
    private static final int PACKETS = 3000;
    private final FakeQueues fakes = new FakeQueues();
    private final int accept = NativeConstants.get().nfAccept;

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    private long accepted(FakeTransport fake) {
        return fake.verdictCounts().keySet().stream().filter(id -> fake.verdictCodeFor(id) == accept).count();
    }

    @Test
    void theSafeFormResolvesWhatFilterDropsAtOnce() {
        FakeTransport fake = fakes.next(Q).offerMany(1, PACKETS, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive(packets -> packets
                        .filter(p -> p.id() % 2 == 0)
                        .doOnNext(Packet::accept))
                .subscribe();
        try {
            assertTrue(fake.awaitVerdicts(PACKETS, Duration.ofSeconds(10)), "verdicts: " + fake.verdictsApplied());
            QueueCounters c = receiver.counters().get(0);
            assertEquals(PACKETS / 2, c.defaultVerdicts(DefaultVerdictCause.DISCARD), c.toString());
            assertEquals(0, c.defaultVerdicts(DefaultVerdictCause.TIMEOUT), "none waited for the timeout: " + c);
            assertEquals(PACKETS / 2, accepted(fake), "the kept half accepted");
            assertEquals(0, c.unresolved(), c.toString());
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void theTransformerDoesTheSameForAChainYouSubscribeYourself() {
        FakeTransport fake = fakes.next(Q).offerMany(1, PACKETS, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive()
                .filter(p -> p.id() % 3 != 0)
                .distinct(p -> p.id() % 7) // keeps 7 of the rest: most are dropped as duplicates
                .transform(Verdicts.resolveDropped())
                .subscribe(Packet::accept);
        try {
            assertTrue(fake.awaitVerdicts(PACKETS, Duration.ofSeconds(10)), "verdicts: " + fake.verdictsApplied());
            QueueCounters c = receiver.counters().get(0);
            assertEquals(7, accepted(fake), c.toString());
            assertEquals(PACKETS - 7, c.defaultVerdicts(DefaultVerdictCause.DISCARD), c.toString());
            assertEquals(0, c.defaultVerdicts(DefaultVerdictCause.TIMEOUT), c.toString());
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /** An operator that throws for one packet in ten: that packet gets the default verdict, the rest go on. */
    @Test
    void theSafeFormGoesOnAfterAnErrorAndResolvesTheFailedPacket() {
        FakeTransport fake = fakes.next(Q).offerMany(1, PACKETS, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive(packets -> packets
                        .map(p -> {
                            if (p.id() % 10 == 0) {
                                throw new IllegalStateException("cannot inspect packet " + p.id());
                            }
                            return p;
                        })
                        .doOnNext(Packet::accept))
                .subscribe();
        try {
            assertTrue(fake.awaitVerdicts(PACKETS, Duration.ofSeconds(10)), "verdicts: " + fake.verdictsApplied());
            QueueCounters c = receiver.counters().get(0);
            assertEquals(PACKETS / 10, c.defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR), c.toString());
            assertEquals(PACKETS - PACKETS / 10, accepted(fake), c.toString());
            assertTrue(!fake.isClosed(), "the subscription went on");
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /** Lists of packets (buffer) are looked into: a buffer that throws resolves all of its packets. */
    @Test
    void aFailedBufferResolvesEveryPacketInIt() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 100, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive(packets -> packets
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
            assertTrue(fake.awaitVerdicts(100, Duration.ofSeconds(10)), "verdicts: " + fake.verdictsApplied());
            assertEquals(10, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR));
            assertEquals(90, accepted(fake));
        } finally {
            running.dispose();
        }
    }

    /**
     * The plain form with a filter and nothing else: what the filter drops is stranded. Reading
     * stops at maxInFlight, the stall warning says why and what to do, the verdict timeout frees
     * the stranded packets, and reading goes on: slow, bounded, and loud, never stuck for good.
     */
    @Test
    @ExpectsStallWarning(required = true)
    void thePlainFormStrandsWhatFilterDropsUntilTheTimeoutAndWarns() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 600, Q);
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(Q).maxInFlight(100)
                .verdictTimeout(Duration.ofSeconds(1)), fakes, Timings.DEFAULT.withStallAfter(Duration.ofMillis(200)));
        AtomicInteger kept = new AtomicInteger();
        Disposable running = receiver.receive()
                .filter(p -> p.id() % 2 == 0)
                .subscribe(p -> {
                    kept.incrementAndGet();
                    p.accept();
                });
        try {
            Await.until(() -> receiver.backpressure().get(0).readingStalls() >= 1, Duration.ofSeconds(5),
                    () -> "a stall counted: " + receiver.backpressure());
            List<String> warnings = StallWarningGuard.warnings();
            assertEquals(1, warnings.size(), warnings.toString());
            String w = warnings.get(0);
            assertTrue(w.contains("queue " + Q) && w.contains("100 packets (maxInFlight)") && w.contains("the oldest for")
                    && w.contains("receiver.receive(packets -> ...)") && w.contains("Verdicts.resolveDropped()"), w);
            assertTrue(fake.awaitVerdicts(600, Duration.ofSeconds(20)), "the timeout freed the stranded ones: "
                    + fake.verdictsApplied());
            QueueCounters c = receiver.counters().get(0);
            assertEquals(300, c.defaultVerdicts(DefaultVerdictCause.TIMEOUT), c.toString());
            assertEquals(300, kept.get());
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /** A pipeline that holds its packets but keeps below maxInFlight never stalls, so never warns. */
    @Test
    void noWarningWithoutAStall() throws Exception {
        FakeTransport fake = fakes.next(Q).offerMany(1, 50, Q);
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(Q).maxInFlight(100), fakes,
                Timings.DEFAULT.withStallAfter(Duration.ofMillis(100)));
        Disposable running = receiver.receive()
                .delayElements(Duration.ofMillis(5))
                .subscribe(Packet::accept);
        try {
            assertTrue(fake.awaitVerdicts(50, Duration.ofSeconds(10)));
            TimeUnit.MILLISECONDS.sleep(300);
            assertEquals(0, receiver.backpressure().get(0).readingStalls());
        } finally {
            running.dispose();
        }
    }

    /** The safe form's result composes like any Flux: here the pipeline emits strings. */
    @Test
    void theSafeFormEmitsWhatThePipelineEmits() {
        fakes.next(Q).offerMany(1, 5, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        List<String> out = receiver.receive(packets -> packets
                        .doOnNext(Packet::accept)
                        .map(p -> "packet " + p.id()))
                .take(5)
                .collectList()
                .block(Duration.ofSeconds(10));
        assertEquals(List.of("packet 1", "packet 2", "packet 3", "packet 4", "packet 5"), out);
        Flux<String> twice = receiver.receive(packets -> packets.map(p -> "x"));
        assertTrue(twice != null);
    }
}
