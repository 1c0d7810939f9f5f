package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PacketReceiver#warmUp}: the receiver's own path over synthetic queues (the native
 * library's synthetic handle: no kernel queue, no privilege), with the operators a user puts in
 * the pipeline. Every packet it is given gets a verdict, those a filter drops included; the real
 * receiver is untouched by it.
 */
@Timeout(60)
class PacketReceiverWarmUpTest {
    @Test
    void warmsUpWithTheDefaultPipelineAndEmitsHowLongItTook() {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(20)
                .queueOptions(q -> q.networkNamespace(Path.of("/nonexistent/netns"))));
        StepVerifier.create(receiver.warmUp(5000))
                .assertNext(took -> assertTrue(took.toNanos() > 0, "took " + took))
                .verifyComplete();
        assertEquals(List.of(), receiver.counters(), "the real receiver bound nothing");
    }

    @Test
    void everyPacketGetsAVerdictThroughOrdinaryOperatorsAndAFilter() {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(21));
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger seen = new AtomicInteger();
        List<Packet> all = new CopyOnWriteArrayList<>();
        Mono<Duration> warmUp = receiver.warmUp(3000, packets -> packets
                .doOnNext(all::add)
                .doOnNext(p -> seen.incrementAndGet())
                .publishOn(Schedulers.parallel())
                .filter(p -> p.id() % 3 != 0)          // a third dropped: the default verdict, at once
                .concatMap(p -> Mono.just(p).doOnNext(Packet::accept))
                .doOnNext(p -> accepted.incrementAndGet()));
        StepVerifier.create(warmUp).expectNextCount(1).verifyComplete();
        assertEquals(3000, seen.get(), "exactly the packets asked for");
        assertEquals(2000, accepted.get());
        for (Packet p : all) {
            assertTrue(p.isResolved(), "packet " + p.id() + " resolved");
        }
    }

    @Test
    void aRangeOfQueuesSharesThePackets() {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queues(30, 32));
        Set<Integer> queues = ConcurrentHashMap.newKeySet();
        AtomicInteger seen = new AtomicInteger();
        StepVerifier.create(receiver.warmUp(1000, packets -> packets
                        .doOnNext(p -> queues.add(p.queueNumber()))
                        .doOnNext(p -> seen.incrementAndGet())
                        .doOnNext(Packet::accept)))
                .expectNextCount(1)
                .verifyComplete();
        assertEquals(Set.of(30, 31, 32), queues);
        assertEquals(1002, seen.get(), "334 per queue, rounded up");
    }

    @Test
    void worksWithAHandoffAndCanRunAgain() {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(22).handoff(Schedulers.single())
                .queueOptions(q -> q.batchSize(8)));
        for (int round = 0; round < 2; round++) {
            StepVerifier.create(receiver.warmUp(2000)).expectNextCount(1).verifyComplete();
        }
    }

    @Test
    void theProgramsListenersHooksAndCountersHearNothingOfIt() {
        AtomicInteger resolutions = new AtomicInteger();
        AtomicInteger hooks = new AtomicInteger();
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(25)
                .onResolution((p, v, cause) -> resolutions.incrementAndGet())
                .doOnBound(b -> hooks.incrementAndGet())
                .doOnUnbound(b -> hooks.incrementAndGet()));
        StepVerifier.create(receiver.warmUp(3000)).expectNextCount(1).verifyComplete();
        assertEquals(0, resolutions.get(), "resolution listener");
        assertEquals(0, hooks.get(), "bound and unbound hooks");
        assertEquals(List.of(), receiver.counters());
    }

    @Test
    void refusesBadArguments() {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(23));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> receiver.warmUp(0));
        assertEquals("warm-up packets must be at least 1: 0", e.getMessage());
        assertThrows(NullPointerException.class, () -> receiver.warmUp(10, null));
    }

    @Test
    void aQueueOptionsMapperSeesTheSyntheticQueueAsItsOwn() {
        AtomicInteger mapped = new AtomicInteger();
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(24).queueOptions(q -> {
            mapped.incrementAndGet();
            return q.copyRange(40);
        }));
        AtomicInteger truncated = new AtomicInteger();
        StepVerifier.create(receiver.warmUp(100, packets -> packets
                        .doOnNext(p -> {
                            if (p.isTruncated() && p.payloadLength() == 40) {
                                truncated.incrementAndGet();
                            }
                        })
                        .doOnNext(Packet::accept)))
                .expectNextCount(1)
                .verifyComplete();
        assertEquals(100, truncated.get(), "the copy range of the options applies to the synthetic packets");
        assertTrue(mapped.get() >= 1);
        assertTrue(QueueOptions.queue(24).copyRange() > 40);
    }
}
