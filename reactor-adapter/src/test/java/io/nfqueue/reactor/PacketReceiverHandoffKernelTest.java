package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;
import io.nfqueue.Verdict;
import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ReceiverOptions#handoff} on a real queue: the worker reads and emits bursts from the
 * kernel, reads no further than demand, and a subscriber blocked on the worker leaves the rest in
 * the kernel while the receive thread still times out what was read.
 */
@KernelTest
@Timeout(60)
class PacketReceiverHandoffKernelTest {
    private static final int PORT = 9470;
    private static final int QUEUE = 47;
    private static final Duration WAIT = Duration.ofSeconds(10);
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
    private final Scheduler scheduler = Schedulers.newSingle("handoff-k");

    @AfterEach
    void tearDown() {
        scheduler.dispose();
    }

    private ReceiverOptions options() {
        return ReceiverOptions.queue(QUEUE).handoff(scheduler).queueOptions(q -> q.networkNamespace(ns.path()));
    }

    /** 20 bursts of 100 datagrams, 20 ms apart: each accepted on the worker, each arrives once. */
    @Test
    void burstsAreReadAndEmittedOnTheWorkerAndEachArrivesOnce() throws Exception {
        int bursts = 20;
        int perBurst = 100;
        PacketReceiver receiver = PacketReceiver.create(options());
        Set<String> threads = ConcurrentHashMap.newKeySet();
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT))) {
            Disposable running = receiver.receive().subscribe(p -> {
                threads.add(Thread.currentThread().getName());
                p.accept();
            });
            try {
                for (int b = 0; b < bursts; b++) {
                    for (int i = 0; i < perBurst; i++) {
                        Udp.send(sender, "127.0.0.1", PORT, "h-" + (b * perBurst + i));
                    }
                    Thread.sleep(20);
                }
                assertTrue(sink.awaitTotal(bursts * perBurst, WAIT), "arrived: " + sink.total());
                QueueCounters c = receiver.counters().get(0);
                assertEquals(bursts * perBurst, c.received(), c.toString());
                assertEquals(bursts * perBurst, c.verdictsSent(), c.toString());
                assertEquals(0, c.totalDefaultVerdicts(), c.toString());
                assertEquals(0, KernelQueues.find(ns, QUEUE).map(QueueStats::queued).orElse(-1L));
            } finally {
                running.dispose();
            }
            Map<String, Integer> counts = sink.counts(t -> t.startsWith("h-"));
            assertEquals(bursts * perBurst, counts.size(), "every datagram arrived");
            assertTrue(counts.values().stream().allMatch(n -> n == 1), "each exactly once");
            assertEquals(1, threads.size(), "one worker: " + threads);
            assertTrue(threads.iterator().next().startsWith("handoff-k"), "emitted on the scheduler's worker: " + threads);
        }
    }

    /** Request 10 of 50: the worker reads 10, the kernel keeps 40 until more demand comes. */
    @Test
    void theWorkerReadsNoFurtherThanDemand() throws Exception {
        PacketReceiver receiver = PacketReceiver.create(options().maxLengthBounds(64, 1024));
        AtomicInteger got = new AtomicInteger();
        BaseSubscriber<Packet> subscriber = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
                s.request(10);
            }

            @Override
            protected void hookOnNext(Packet p) {
                got.incrementAndGet();
                p.accept();
            }
        };
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT))) {
            receiver.receive().subscribe(subscriber);
            try {
                for (int i = 0; i < 50; i++) {
                    Udp.send(sender, "127.0.0.1", PORT, "d-" + i);
                }
                assertTrue(sink.awaitTotal(10, WAIT), "the first 10 arrived: " + sink.total());
                Thread.sleep(200); // nothing more may be read: demand is used up
                assertEquals(10, got.get(), "emitted");
                assertEquals(10, receiver.counters().get(0).received(), "read from the socket");
                assertEquals(40, KernelQueues.find(ns, QUEUE).orElseThrow().queued(), "the rest wait in the kernel");

                subscriber.request(40);
                assertTrue(sink.awaitTotal(50, WAIT), "all arrived after more demand: " + sink.total());
                assertEquals(50, got.get());
            } finally {
                subscriber.dispose();
            }
            assertTrue(sink.counts(t -> t.startsWith("d-")).values().stream().allMatch(n -> n == 1), "each once");
        }
    }

    /**
     * The subscriber blocks on the worker with the first packet: the receive thread still gives it
     * the default verdict at the timeout, and later packets wait unread in the kernel (backpressure)
     * until the subscriber returns, then get its verdicts.
     */
    @Test
    void aSubscriberBlockedOnTheWorkerStillHasWhatWasReadTimedOut() throws Exception {
        // t-1..t-4 must get the subscriber's verdicts after the release, before this runs out:
        // longer than a pause (GC, a loaded machine) on the worker between a read and its accept.
        PacketReceiver receiver = PacketReceiver.create(options()
                .verdictTimeout(Duration.ofSeconds(2))
                .defaultVerdict(Verdict.accept()));
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT))) {
            Disposable running = receiver.receive().subscribe(p -> {
                if (UdpPackets.udpText(p.payloadBytes()).equals("t-0")) {
                    blocked.countDown();
                    try {
                        release.await(20, TimeUnit.SECONDS); // the worker is stuck here
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (!p.isResolved()) {
                    p.accept(); // t-0 is too late: the timeout resolved it
                }
            });
            try {
                Udp.send(sender, "127.0.0.1", PORT, "t-0");
                assertTrue(blocked.await(10, TimeUnit.SECONDS), "the subscriber got t-0");
                assertTrue(sink.awaitArrival("t-0", WAIT), "t-0 timed out and was accepted while the worker is blocked");
                for (int i = 1; i <= 4; i++) {
                    Udp.send(sender, "127.0.0.1", PORT, "t-" + i);
                }
                Thread.sleep(300);
                // The kernel counts a packet read but not yet verdicted as queued too: the
                // receive counter tells unread from read and held (the timeout is too long now
                // to give such a packet away within the sleep).
                assertEquals(1, receiver.counters().get(0).received(), "nothing read after t-0 while the worker is blocked");
                assertEquals(4, KernelQueues.find(ns, QUEUE).orElseThrow().queued(), "unread while the worker is blocked");
                assertEquals(1, sink.total(), "only t-0 passed so far");

                release.countDown();
                assertTrue(sink.awaitTotal(5, WAIT), "the rest were read and accepted: " + sink.total());
                QueueCounters c = receiver.counters().get(0);
                assertEquals(1, c.defaultVerdicts(DefaultVerdictCause.TIMEOUT), c.toString());
                assertEquals(1, c.totalDefaultVerdicts(), "t-1..t-4 got the subscriber's verdicts: " + c);
                assertEquals(5, c.verdictsSent(), c.toString());
            } finally {
                release.countDown();
                running.dispose();
            }
            assertTrue(sink.counts(t -> t.startsWith("t-")).values().stream().allMatch(n -> n == 1), "each once");
        }
    }
}
