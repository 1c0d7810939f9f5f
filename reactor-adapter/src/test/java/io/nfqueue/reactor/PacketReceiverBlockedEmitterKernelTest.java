package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;
import io.nfqueue.Verdict;
import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;

import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A subscriber blocked in onNext for a packet of one queue of a range stalls delivery (that is
 * backpressure) but not the other queue: its receive thread goes on reading against demand, and
 * the watchdog gives its packets the default verdict at the verdict timeout while onNext is still
 * blocked. With emission serialized under a lock (the first design) the other queue's receive
 * thread waited for that lock, and with it its verdict timeouts.
 */
@KernelTest
@Timeout(60)
class PacketReceiverBlockedEmitterKernelTest {
    private static final int QUEUE = 44;
    private static final int PORT_A = 9441;
    private static final int PORT_B = 9442;

    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT_A + " -j NFQUEUE --queue-num " + QUEUE)
            .withIptables("-A OUTPUT -p udp --dport " + PORT_B + " -j NFQUEUE --queue-num " + (QUEUE + 1));

    @Test
    void aBlockedOnNextOnOneQueueDoesNotStopTheOtherQueuesVerdictTimeouts() throws Exception {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queues(QUEUE, QUEUE + 1)
                .defaultVerdict(Verdict.accept()) // so the sink shows what the timeout resolved
                .verdictTimeout(Duration.ofMillis(500))
                .queueOptions(q -> q.networkNamespace(ns.path())));
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> seen = new CopyOnWriteArrayList<>();
        try (DatagramChannel sinkA = ns.udpSocket("127.0.0.1", PORT_A);
             DatagramChannel sinkBChannel = ns.udpSocket("127.0.0.1", PORT_B);
             DatagramTally sinkB = DatagramTally.start(sinkBChannel);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            Disposable running = receiver.receive().subscribe(p -> {
                String text = UdpPackets.udpText(p.payloadBytes());
                seen.add(text);
                if (text.equals("block")) {
                    blocked.countDown();
                    awaitUninterruptibly(release, 20);
                    return; // blocked past the verdict timeout: it has its verdict already
                }
                p.accept();
            });
            try {
                Udp.send(sender, "127.0.0.1", PORT_A, "block");
                assertTrue(blocked.await(5, TimeUnit.SECONDS), "onNext blocked on queue " + QUEUE);
                for (int i = 0; i < 10; i++) {
                    Udp.send(sender, "127.0.0.1", PORT_B, "b" + i);
                }
                // Queue B's packets are read, wait behind the blocked onNext, and time out: the
                // default verdict (ACCEPT here) lets them through while onNext is still blocked.
                KernelWait.until(() -> sinkB.total() == 10, Duration.ofSeconds(5),
                        () -> "queue B's packets resolved by its verdict timeout: " + sinkB.total() + " arrived, "
                                + receiver.counters());
                assertEquals(1, release.getCount(), "still blocked in onNext");
                assertEquals(List.of("block"), seen, "nothing else was emitted while onNext blocked");
                QueueCounters b = receiver.counters().get(1);
                assertEquals(10, b.received(), "queue B's receive thread went on reading: " + b);
                assertEquals(10, b.defaultVerdicts(DefaultVerdictCause.TIMEOUT), b.toString());
            } finally {
                release.countDown();
            }
            // onNext returns; the timed-out packets are not emitted (nobody could give them a
            // verdict). The blocked one timed out as well, while onNext held it.
            byte[] a = Udp.receiveOne(sinkA, Duration.ofSeconds(5));
            assertTrue(a != null && new String(a, StandardCharsets.UTF_8).equals("block"), "the blocked packet arrived");
            assertEquals(1, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.TIMEOUT));
            Udp.send(sender, "127.0.0.1", PORT_B, "after");
            KernelWait.until(() -> seen.contains("after"), Duration.ofSeconds(5), () -> "delivery goes on: " + seen
                    + " " + receiver.counters() + " " + receiver.backpressure());
            assertEquals(List.of("block", "after"), seen);
            running.dispose();
        }
        assertTrue(QueueStats.readAll(ns.path()).isEmpty(), "both queues unbound");
        for (QueueCounters c : receiver.counters()) {
            assertEquals(0, c.unresolved(), c.toString());
            assertEquals(0, c.kernelErrors(), c.toString());
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch, long seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (latch.getCount() > 0 && System.nanoTime() < deadline) {
            try {
                latch.await(10, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
