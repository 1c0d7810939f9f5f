package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;
import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A 3-queue range fed by --queue-balance: every packet verdicted, none lost, order kept per queue. */
@KernelTest
@Timeout(90)
class PacketReceiverQueueRangeKernelTest {
    private static final int PORT = 9200;
    private static final int FLOWS = 24;
    private static final int PER_FLOW = 50;
    /** Datagrams sent ahead of their arrival: well within the sink's socket buffer. */
    private static final int AHEAD = 256;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-balance 10:12");

    @Test
    void mergedFluxVerdictsEveryPacketOfEveryQueue() throws Exception {
        // A ceiling above the whole burst: this test is about the range, not about overflow.
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queues(10, 12)
                .maxLengthBounds(1, 4096)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        Map<Integer, AtomicInteger> perQueue = new ConcurrentHashMap<>();
        Map<String, Integer> lastSeqByFlow = new ConcurrentHashMap<>();
        AtomicInteger outOfOrder = new AtomicInteger();
        Set<String> threads = ConcurrentHashMap.newKeySet();
        Disposable running = receiver.receive().subscribe(p -> {
            perQueue.computeIfAbsent(p.queueNumber(), q -> new AtomicInteger()).incrementAndGet();
            threads.add(Thread.currentThread().getName());
            checkOrder(p, lastSeqByFlow, outOfOrder);
            p.accept();
        });
        try (DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT))) {
            int sent = sendFlows(sink);
            assertEveryOneArrivedOnce(sink, sent);
            assertEquals(0, outOfOrder.get(), "order kept within each flow (and so each queue)");
            assertTrue(perQueue.size() >= 2, "the balancing rule spread flows over queues: " + perQueue);
            assertTrue(threads.stream().allMatch(t -> t.matches("nfqueue-1[0-2]-rx")), "emitted on receive threads: " + threads);
        } finally {
            running.dispose();
        }
        long delivered = receiver.counters().stream().mapToLong(QueueCounters::received).sum();
        long verdicts = receiver.counters().stream().mapToLong(QueueCounters::verdictsSent).sum();
        assertEquals(FLOWS * PER_FLOW, delivered, "packets received over the range");
        assertEquals(delivered, verdicts, "one verdict per packet");
        for (int q = 10; q <= 12; q++) {
            assertTrue(QueueStats.find(ns.path(), q).isEmpty(), "queue " + q + " unbound after dispose");
        }
    }

    @Test
    void parallelFluxHasARailPerQueue() throws Exception {
        // A ceiling above the whole burst: this test is about the range, not about overflow.
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queues(10, 12)
                .maxLengthBounds(1, 4096)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        Map<Integer, Set<String>> threadsByQueue = new ConcurrentHashMap<>();
        Disposable running = receiver.receiveParallel().subscribe(p -> {
            threadsByQueue.computeIfAbsent(p.queueNumber(), q -> ConcurrentHashMap.newKeySet())
                    .add(Thread.currentThread().getName());
            p.accept();
        });
        try (DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT))) {
            assertEquals(3, receiver.parallelism(), "one rail per queue");
            int sent = sendFlows(sink);
            assertEveryOneArrivedOnce(sink, sent);
            threadsByQueue.forEach((q, names) ->
                    assertEquals(Set.of("nfqueue-" + q + "-rx"), names, "rail of queue " + q + " runs on its thread"));
        } finally {
            running.dispose();
        }
    }

    /**
     * Sends FLOWS flows of PER_FLOW datagrams, at most AHEAD of their arrival at the sink: its
     * socket buffer (net.core.rmem_max, about 550 such datagrams) would overflow if a late sink
     * reader let a whole burst pile up.
     */
    private int sendFlows(DatagramTally sink) throws Exception {
        List<DatagramChannel> senders = new ArrayList<>();
        try {
            for (int f = 0; f < FLOWS; f++) {
                // --queue-balance hashes addresses, not ports: one source address per flow.
                senders.add(ns.udpSocket("127.0.0." + (2 + f), 0));
            }
            long sent = 0;
            for (int i = 0; i < PER_FLOW; i++) {
                for (int f = 0; f < FLOWS; f++) {
                    long ahead = sent;
                    KernelWait.until(() -> ahead - sink.total() < AHEAD, Duration.ofSeconds(30),
                            () -> "sending stalled at " + ahead + ", arrived " + sink.total());
                    Udp.send(senders.get(f), "127.0.0.1", PORT, "f" + f + "-" + i);
                    sent++;
                }
            }
        } finally {
            for (DatagramChannel s : senders) {
                s.close();
            }
        }
        return FLOWS * PER_FLOW;
    }

    private static void assertEveryOneArrivedOnce(DatagramTally sink, int sent) {
        assertTrue(sink.awaitTotal(sent, Duration.ofSeconds(30)), "arrived " + sink.total() + " of " + sent);
        Map<String, Integer> counts = sink.counts(t -> t.startsWith("f"));
        assertEquals(sent, counts.size(), "every packet arrived");
        assertTrue(counts.values().stream().allMatch(n -> n == 1), "each once");
        assertNull(sink.failure(), "the sink kept reading");
    }

    private static void checkOrder(Packet p, Map<String, Integer> last, AtomicInteger outOfOrder) {
        String text = new String(p.payloadBytes(), 28, p.payloadLength() - 28);
        String flow = text.substring(0, text.indexOf('-'));
        int seq = Integer.parseInt(text.substring(text.indexOf('-') + 1));
        Integer prev = last.put(flow, seq);
        if (prev != null && prev >= seq) {
            outOfOrder.incrementAndGet();
        }
    }

    @SuppressWarnings("unused")
    private static Set<Integer> queues(Map<Integer, AtomicInteger> m) {
        return m.keySet().stream().collect(Collectors.toSet());
    }
}
