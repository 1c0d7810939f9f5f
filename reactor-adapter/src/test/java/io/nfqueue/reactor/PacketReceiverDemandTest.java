package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A subscriber that requested n gets at most n packets, and the adapter reads from the socket
 * only what some operator of the chain requested: no hidden prefetch, no batch read past demand.
 */
@Timeout(60)
class PacketReceiverDemandTest {
    private static final int Q = 3;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final FakeQueues fakes = new FakeQueues();
    private final Scheduler single = Schedulers.newSingle("demand-test");

    @AfterEach
    void tearDown() {
        single.dispose();
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    @Test
    void requestNDeliversExactlyNAndLeavesTheRestInTheSocket() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 20, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive(), 5)
                .expectNextCount(5)
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> {
                    // One receive batch holds 32 datagrams: reading 5 means the read was capped by demand.
                    assertEquals(5, fake.recordsDelivered(), "packets read from the socket");
                    assertEquals(15, fake.unread(), "packets left in the socket");
                })
                .thenCancel()
                .verify(VERIFY);

        QueueCounters c = receiver.counters().get(0);
        assertEquals(5, c.defaultVerdicts(DefaultVerdictCause.CANCEL), "the 5 delivered, unresolved: " + c);
        assertEquals(15, c.defaultVerdicts(DefaultVerdictCause.CLOSE), "the 15 never read, drained by close: " + c);
        assertEquals("", fakes.exactlyOnceProblems());
        int drop = NativeConstants.get().nfDrop;
        for (int id = 1; id <= 20; id++) {
            assertEquals(drop, fake.verdictCodeFor(id), "default verdict DROP for packet " + id);
        }
    }

    @Test
    void eachRequestReadsExactlyThatMany() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 50, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive().doOnNext(Packet::accept), 2)
                .expectNextCount(2)
                .expectNoEvent(Duration.ofMillis(150))
                .then(() -> assertEquals(2, fake.recordsDelivered()))
                .thenRequest(3)
                .expectNextCount(3)
                .expectNoEvent(Duration.ofMillis(150))
                .then(() -> assertEquals(5, fake.recordsDelivered()))
                .thenRequest(1)
                .expectNextCount(1)
                .expectNoEvent(Duration.ofMillis(150))
                .then(() -> assertEquals(6, fake.recordsDelivered()))
                .thenCancel()
                .verify(VERIFY);

        assertEquals("", fakes.exactlyOnceProblems());
        for (int id = 1; id <= 6; id++) {
            assertEquals(NativeConstants.get().nfAccept, fake.verdictCodeFor(id), "packet " + id);
        }
    }

    @Test
    void packetsOfferedLaterAreReadAsDemandAllows() {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive().doOnNext(Packet::accept), 4)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(100))
                .then(() -> fake.offerMany(1, 10, Q))
                .expectNextCount(4)
                .expectNoEvent(Duration.ofMillis(150))
                .then(() -> assertEquals(6, fake.unread()))
                .thenCancel()
                .verify(VERIFY);
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void limitRateAddsNoPrefetchBeyondItsOwnRequests() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 100, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        AtomicLong requestedAtSource = new AtomicLong();

        StepVerifier.create(receiver.receive()
                        .doOnRequest(requestedAtSource::addAndGet)
                        .doOnNext(Packet::accept)
                        .limitRate(4), 1)
                .expectNextCount(1)
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> {
                    assertEquals(4, requestedAtSource.get(), "limitRate(4) requests 4 upstream");
                    assertEquals(4, fake.recordsDelivered(), "read from the socket: what limitRate asked, not a batch");
                })
                .thenRequest(9)
                .expectNextCount(9)
                // limitRate's last replenishing request may be read after item 10: wait for that
                // read (bounded), then give an overshoot time to show.
                .then(() -> Await.until(() -> fake.recordsDelivered() >= requestedAtSource.get(),
                        () -> "read " + fake.recordsDelivered() + " of " + requestedAtSource.get() + " requested"))
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> assertEquals(requestedAtSource.get(), fake.recordsDelivered(),
                        "read from the socket == requested at the source"))
                .thenCancel()
                .verify(VERIFY);
        assertTrue(requestedAtSource.get() <= 16, "limitRate replenishes in small steps: " + requestedAtSource);
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void publishOnPrefetchIsTheOnlyPrefetch() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 100, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        AtomicLong requestedAtSource = new AtomicLong();
        List<String> threads = new CopyOnWriteArrayList<>();

        StepVerifier.create(receiver.receive()
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
                    assertEquals(8, fake.recordsDelivered(), "no read beyond publishOn's own prefetch");
                })
                .thenCancel()
                .verify(VERIFY);
        assertTrue(threads.stream().allMatch(t -> t.startsWith("demand-test")), "after publishOn: " + threads);
        QueueCounters c = receiver.counters().get(0);
        assertEquals(7, c.defaultVerdicts(DefaultVerdictCause.CANCEL), "7 waited in publishOn's queue: " + c);
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void takeReadsOnlyWhatItTakes() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 40, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        AtomicLong requestedAtSource = new AtomicLong();

        StepVerifier.create(receiver.receive()
                        .doOnRequest(requestedAtSource::addAndGet)
                        .take(3))
                .expectNextCount(3)
                .verifyComplete();

        assertEquals(3, requestedAtSource.get(), "take(3) limits the request to 3");
        assertTrue(fake.isClosed(), "take's cancel unbinds");
        QueueCounters c = receiver.counters().get(0);
        assertEquals(3, c.defaultVerdicts(DefaultVerdictCause.CANCEL), "read and unresolved at cancel: " + c);
        assertEquals(37, c.defaultVerdicts(DefaultVerdictCause.CLOSE), "still in the socket at cancel: " + c);
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void maxInFlightStopsReadingUntilVerdictsFreeRoom() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 20, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).maxInFlight(4));
        List<Packet> held = new CopyOnWriteArrayList<>();

        Disposable running = receiver.receive().subscribe(held::add); // unbounded demand, no verdicts
        try {
            Await.until(() -> held.size() == 4, () -> "4 packets in flight, got " + held.size());
            Await.quiet();
            assertEquals(4, held.size(), "reading stopped at maxInFlight");
            assertEquals(16, fake.unread());

            held.get(0).accept();
            held.get(1).drop();
            Await.until(() -> held.size() == 6, () -> "two verdicts free two places, got " + held.size());
            Await.quiet();
            assertEquals(6, held.size(), "still at most 4 unresolved");
            assertEquals(4, receiver.counters().get(0).unresolved());
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void mergedSourcesEachGetOnlyTheirDemand() {
        // Two receivers in one chain: a request of 6 is split by merge, never exceeded in total.
        FakeQueues other = new FakeQueues();
        FakeTransport a = fakes.next(Q).offerMany(1, 20, Q);
        FakeTransport b = other.next(Q + 1).offerMany(1001, 20, Q + 1);
        Flux<Packet> both = Flux.merge(fakes.receiver(ReceiverOptions.queue(Q)).receive(),
                other.receiver(ReceiverOptions.queue(Q + 1)).receive());
        AtomicLong delivered = new AtomicLong();

        StepVerifier.create(both.doOnNext(p -> delivered.incrementAndGet()), 0)
                .thenRequest(6)
                .expectNextCount(6)
                .expectNoEvent(Duration.ofMillis(200))
                .thenCancel()
                .verify(VERIFY);
        // Flux.merge prefetches (Queues.XS_BUFFER_SIZE = 32 per source): that is its own prefetch; what
        // the adapter must not do is read more than the merge asked.
        assertTrue(a.recordsDelivered() <= 32 && b.recordsDelivered() <= 32,
                "read: " + a.recordsDelivered() + " + " + b.recordsDelivered());
        assertEquals(6, delivered.get());
        assertEquals("", fakes.exactlyOnceProblems());
        assertEquals("", other.exactlyOnceProblems());
    }
}
