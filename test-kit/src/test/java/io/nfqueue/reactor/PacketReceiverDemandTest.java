package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static io.nfqueue.DefaultVerdictCause.CANCEL;
import static io.nfqueue.DefaultVerdictCause.CLOSE;
import static io.nfqueue.reactor.KitPackets.offerUdp;
import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A subscriber that requested n gets at most n packets, and the adapter reads from the queue
 * only what some operator of the chain requested: no hidden prefetch, no batch read past demand.
 * On the test kit's queue, whose {@code unread()} shows what the library left in it. The
 * default verdict is DROP: packets read and not resolved at the end get it for CANCEL, packets
 * never read get it as the queue closes (CLOSE).
 */
@Timeout(60)
@ExtendWith(StallWarningGuard.class)
class PacketReceiverDemandTest {
    private static final int Q = 3;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final TestQueue queue = TestQueue.create(Q).waitAtMost(VERIFY);
    private final Scheduler single = Schedulers.newSingle("demand-test");

    @AfterEach
    void tearDown() {
        single.dispose();
        assertEquals(List.of(), queue.transportViolations(), "transport threading contract");
    }

    @Test
    void requestNDeliversExactlyNAndLeavesTheRestInTheSocket() {
        offerUdp(queue, 20);

        StepVerifier.create(queue.receiver().receive(), 5)
                .expectNextCount(5)
                .expectNoEvent(Duration.ofMillis(200))
                // One receive batch holds 32 datagrams: reading 5 means the read was capped by demand.
                .then(() -> assertEquals(15, queue.unread(), "packets left in the queue"))
                .thenCancel()
                .verify(VERIFY);

        queue.expectVerdicts(p -> dropped().byDefault(p.id() <= 5 ? CANCEL : CLOSE));
    }

    @Test
    void eachRequestReadsExactlyThatMany() {
        offerUdp(queue, 50);

        StepVerifier.create(queue.receiver().receive().doOnNext(Packet::accept), 2)
                .expectNextCount(2)
                .expectNoEvent(Duration.ofMillis(150))
                .then(() -> assertEquals(48, queue.unread()))
                .thenRequest(3)
                .expectNextCount(3)
                .expectNoEvent(Duration.ofMillis(150))
                .then(() -> assertEquals(45, queue.unread()))
                .thenRequest(1)
                .expectNextCount(1)
                .expectNoEvent(Duration.ofMillis(150))
                .then(() -> assertEquals(44, queue.unread()))
                .thenCancel()
                .verify(VERIFY);

        queue.expectVerdicts(p -> p.id() <= 6 ? accepted() : dropped().byDefault(CLOSE));
    }

    @Test
    void packetsOfferedLaterAreReadAsDemandAllows() {
        StepVerifier.create(queue.receiver().receive().doOnNext(Packet::accept), 4)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(100))
                .then(() -> offerUdp(queue, 10))
                .expectNextCount(4)
                .expectNoEvent(Duration.ofMillis(150))
                .then(() -> assertEquals(6, queue.unread()))
                .thenCancel()
                .verify(VERIFY);
        queue.expectVerdicts(p -> p.id() <= 4 ? accepted() : dropped().byDefault(CLOSE));
    }

    @Test
    void limitRateAddsNoPrefetchBeyondItsOwnRequests() {
        offerUdp(queue, 100);
        AtomicLong requestedAtSource = new AtomicLong();

        StepVerifier.create(queue.receiver().receive()
                        .doOnRequest(requestedAtSource::addAndGet)
                        .doOnNext(Packet::accept)
                        .limitRate(4), 1)
                .expectNextCount(1)
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> {
                    assertEquals(4, requestedAtSource.get(), "limitRate(4) requests 4 upstream");
                    assertEquals(96, queue.unread(), "read from the queue: what limitRate asked, not a batch");
                })
                .thenRequest(9)
                .expectNextCount(9)
                // limitRate's last replenishing request may be read after item 10: wait for that
                // read (bounded), then give an overshoot time to show.
                .then(() -> Await.until(() -> 100 - queue.unread() >= requestedAtSource.get(),
                        () -> "read " + (100 - queue.unread()) + " of " + requestedAtSource.get() + " requested"))
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> assertEquals(requestedAtSource.get(), 100 - queue.unread(),
                        "read from the queue == requested at the source"))
                .thenCancel()
                .verify(VERIFY);
        assertTrue(requestedAtSource.get() <= 16, "limitRate replenishes in small steps: " + requestedAtSource);
        assertEquals("", queue.exactlyOnceProblems());
    }

    @Test
    void publishOnPrefetchIsTheOnlyPrefetch() {
        offerUdp(queue, 100);
        AtomicLong requestedAtSource = new AtomicLong();
        List<String> threads = new CopyOnWriteArrayList<>();

        StepVerifier.create(queue.receiver().receive()
                        .doOnRequest(requestedAtSource::addAndGet)
                        .publishOn(single, 8)
                        .doOnNext(p -> {
                            threads.add(Thread.currentThread().getName());
                            p.accept();
                        }), 1)
                .expectNextCount(1)
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> {
                    assertEquals(8, requestedAtSource.get(), "publishOn(…, 8) requests 8");
                    assertEquals(92, queue.unread(), "no read beyond publishOn's own prefetch");
                })
                .thenCancel()
                .verify(VERIFY);
        assertTrue(threads.stream().allMatch(t -> t.startsWith("demand-test")), "after publishOn: " + threads);
        // One delivered and accepted, 7 waited in publishOn's queue, 92 were never read.
        queue.expectVerdicts(p -> p.id() == 1 ? accepted() : dropped().byDefault(p.id() <= 8 ? CANCEL : CLOSE));
    }

    @Test
    void takeReadsOnlyWhatItTakes() {
        offerUdp(queue, 40);
        AtomicLong requestedAtSource = new AtomicLong();

        StepVerifier.create(queue.receiver().receive()
                        .doOnRequest(requestedAtSource::addAndGet)
                        .take(3))
                .expectNextCount(3)
                .expectComplete()
                .verify(VERIFY);

        assertEquals(3, requestedAtSource.get(), "take(3) limits the request to 3");
        assertTrue(!queue.isBound(), "take's cancel unbinds");
        // Read and unresolved at take's cancel: CANCEL; still in the queue: CLOSE.
        queue.expectVerdicts(p -> dropped().byDefault(p.id() <= 3 ? CANCEL : CLOSE));
    }

    @Test
    void maxInFlightStopsReadingUntilVerdictsFreeRoom() {
        offerUdp(queue, 20);
        PacketReceiver receiver = queue.receiver(ReceiverOptions.queue(Q).maxInFlight(4));
        List<Packet> held = new CopyOnWriteArrayList<>();

        Disposable running = receiver.receive().subscribe(held::add); // unbounded demand, no verdicts
        try {
            Await.until(() -> held.size() == 4, () -> "4 packets in flight, got " + held.size());
            Await.quiet();
            assertEquals(4, held.size(), "reading stopped at maxInFlight");
            assertEquals(16, queue.unread());

            held.get(0).accept();
            held.get(1).drop();
            Await.until(() -> held.size() == 6, () -> "two verdicts free two places, got " + held.size());
            Await.quiet();
            assertEquals(6, held.size(), "still at most 4 unresolved");
            assertEquals(14, queue.unread());
            assertEquals(4, receiver.counters().get(0).unresolved());
        } finally {
            running.dispose();
        }
        queue.expectVerdicts(p -> p.id() == 1 ? accepted() : p.id() == 2 ? dropped()
                : dropped().byDefault(p.id() <= 6 ? CANCEL : CLOSE));
    }

    @Test
    void mergedSourcesEachGetOnlyTheirDemand() {
        // Two receivers in one chain: a request of 6 is split by merge, never exceeded in total.
        TestQueue other = TestQueue.create(Q + 1).waitAtMost(VERIFY);
        offerUdp(queue, 40);
        offerUdp(other, 40);
        Flux<Packet> both = Flux.merge(queue.receiver().receive(), other.receiver().receive());
        AtomicLong delivered = new AtomicLong();

        StepVerifier.create(both.doOnNext(p -> delivered.incrementAndGet()), 0)
                .thenRequest(6)
                .expectNextCount(6)
                .expectNoEvent(Duration.ofMillis(200))
                // Flux.merge prefetches (Queues.XS_BUFFER_SIZE = 32 per source): that is its own
                // prefetch; what the adapter must not do is read more than the merge asked.
                .then(() -> assertTrue(queue.unread() >= 8 && other.unread() >= 8,
                        "read: " + (40 - queue.unread()) + " + " + (40 - other.unread())))
                .thenCancel()
                .verify(VERIFY);
        assertEquals(6, delivered.get());
        assertTrue(queue.awaitVerdicts(40, VERIFY) && other.awaitVerdicts(40, VERIFY));
        assertEquals("", queue.exactlyOnceProblems());
        assertEquals("", other.exactlyOnceProblems());
        assertEquals(List.of(), other.transportViolations());
    }
}
