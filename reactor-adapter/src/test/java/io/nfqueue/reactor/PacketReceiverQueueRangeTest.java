package io.nfqueue.reactor;

import io.nfqueue.Packet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.ParallelFlux;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A queue range: one binding and one receive thread per queue; merged into one Flux with the
 * order of each queue kept, or as a ParallelFlux with one rail per queue.
 */
@Timeout(60)
class PacketReceiverQueueRangeTest {
    private static final int FIRST = 20;
    private static final int LAST = 22;
    private static final int PER_QUEUE = 100;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final FakeQueues fakes = new FakeQueues();

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    /** Ids q*1000+1.. in each queue, so a packet says which queue it came from and in what order. */
    private void offerToEachQueue(int count) {
        for (int q = FIRST; q <= LAST; q++) {
            fakes.next(q).offerMany(q * 1000 + 1, count, q);
        }
    }

    @Test
    void mergedFluxKeepsTheOrderOfEachQueue() {
        offerToEachQueue(PER_QUEUE);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queues(FIRST, LAST));
        Map<Integer, List<Integer>> idsByQueue = new ConcurrentHashMap<>();
        Map<Integer, Set<String>> threadsByQueue = new ConcurrentHashMap<>();

        Disposable running = receiver.receive().subscribe(p -> {
            idsByQueue.computeIfAbsent(p.queueNumber(), q -> new CopyOnWriteArrayList<>()).add(p.id());
            threadsByQueue.computeIfAbsent(p.queueNumber(), q -> ConcurrentHashMap.newKeySet())
                    .add(Thread.currentThread().getName());
            p.accept();
        });
        try {
            for (int q = FIRST; q <= LAST; q++) {
                assertTrue(fakes.last(q).awaitVerdicts(PER_QUEUE, VERIFY), "queue " + q);
            }
        } finally {
            running.dispose();
        }
        assertEquals(LAST - FIRST + 1, fakes.bindings(), "one binding per queue");
        for (int q = FIRST; q <= LAST; q++) {
            assertEquals(ascending(q * 1000 + 1, PER_QUEUE), idsByQueue.get(q), "order within queue " + q);
            // Each queue is read by its own thread; a thread that finds another emitting leaves its
            // packets for it (no lock across onNext), so a packet may reach onNext on any of them.
            assertTrue(threadsByQueue.get(q).stream().allMatch(t -> t.matches("nfqueue-2[0-2]-rx")),
                    "queue " + q + " emitted on the range's receive threads: " + threadsByQueue.get(q));
        }
        assertEquals(LAST - FIRST + 1, receiver.counters().size());
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void mergedFluxSharesOneDemandOverAllQueues() {
        offerToEachQueue(20);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queues(FIRST, LAST));

        StepVerifier.create(receiver.receive().doOnNext(Packet::accept), 10)
                .expectNextCount(10)
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> {
                    int read = 0;
                    for (int q = FIRST; q <= LAST; q++) {
                        read += fakes.last(q).recordsDelivered();
                    }
                    assertEquals(10, read, "10 requested, 10 read over the three queues");
                })
                .thenCancel()
                .verify(VERIFY);
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void parallelFluxHasOneRailPerQueue() {
        offerToEachQueue(PER_QUEUE);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queues(FIRST, LAST));
        ParallelFlux<Packet> parallel = receiver.receiveParallel();
        assertEquals(3, parallel.parallelism());
        assertEquals(3, receiver.parallelism());

        List<RailSubscriber> rails = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            rails.add(new RailSubscriber(Long.MAX_VALUE));
        }
        parallel.subscribe(rails.toArray(new RailSubscriber[0]));
        try {
            for (int q = FIRST; q <= LAST; q++) {
                assertTrue(fakes.last(q).awaitVerdicts(PER_QUEUE, VERIFY), "queue " + q);
            }
        } finally {
            rails.forEach(BaseSubscriber::dispose);
        }
        for (int i = 0; i < 3; i++) {
            int q = FIRST + i;
            RailSubscriber rail = rails.get(i);
            assertEquals(ascending(q * 1000 + 1, PER_QUEUE), rail.ids, "rail " + i + " carries queue " + q + " in order");
            assertEquals(Set.of("nfqueue-" + q + "-rx"), rail.threads);
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void eachRailHasItsOwnDemand() {
        offerToEachQueue(20);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queues(FIRST, LAST));
        RailSubscriber[] rails = {new RailSubscriber(2), new RailSubscriber(5), new RailSubscriber(0)};
        receiver.receiveParallel().subscribe(rails);
        try {
            Await.until(() -> rails[0].ids.size() == 2 && rails[1].ids.size() == 5, () -> "rails got their demand");
            Await.quiet();
            assertEquals(2, rails[0].ids.size());
            assertEquals(5, rails[1].ids.size());
            assertEquals(0, rails[2].ids.size());
            assertEquals(2, fakes.last(FIRST).recordsDelivered());
            assertEquals(5, fakes.last(FIRST + 1).recordsDelivered());
            assertEquals(0, fakes.last(FIRST + 2).recordsDelivered());
        } finally {
            for (RailSubscriber r : rails) {
                r.dispose();
            }
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    private static List<Integer> ascending(int first, int count) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(first + i);
        }
        return ids;
    }

    /** Accepts each packet and records its id and thread. */
    private static final class RailSubscriber extends BaseSubscriber<Packet> {
        final long initialRequest;
        final List<Integer> ids = new CopyOnWriteArrayList<>();
        final Set<String> threads = ConcurrentHashMap.newKeySet();

        RailSubscriber(long initialRequest) {
            this.initialRequest = initialRequest;
        }

        @Override
        protected void hookOnSubscribe(Subscription s) {
            if (initialRequest > 0) {
                s.request(initialRequest);
            }
        }

        @Override
        protected void hookOnNext(Packet p) {
            ids.add(p.id());
            threads.add(Thread.currentThread().getName());
            p.accept();
        }
    }
}
