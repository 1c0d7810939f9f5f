package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.QueuePolling;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * REQUEUE: queue A hands the packet to queue B, which accepts it. B must see it (same bytes,
 * its own queue number), A must not see it again, and it must arrive once. Requeue to a queue
 * nobody binds drops the packet (the library sets no bypass flag on a requeue).
 */
@KernelTest
@Timeout(60)
class RequeueVerdictKernelTest {
    private static final int PORT = 9600;
    private static final int QUEUE_A = 16;
    private static final int QUEUE_B = 1600;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE_A)
            .withIp6tables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE_A);

    @Test
    void requeueToASecondQueueIPv4() throws Exception {
        requeue("127.0.0.1");
    }

    @Test
    void requeueToASecondQueueIPv6() throws Exception {
        requeue("::1");
    }

    private void requeue(String host) throws Exception {
        try (DatagramChannel sink = ns.udpSocket(host, PORT);
             DatagramChannel sender = ns.udpSocket(host, 0);
             NetfilterQueue a = NetfilterQueue.open(QueueOptions.queue(QUEUE_A).networkNamespace(ns.path()));
             NetfilterQueue b = NetfilterQueue.open(QueueOptions.queue(QUEUE_B).networkNamespace(ns.path()))) {
            Udp.send(sender, host, PORT, "hand-over");
            List<byte[]> seenByA = new ArrayList<>();
            assertEquals(1, QueuePolling.handle(a, p -> {
                seenByA.add(p.payloadBytes());
                p.requeue(QUEUE_B);
            }, 1, Duration.ofSeconds(5)));

            List<Packet> seenByB = new ArrayList<>();
            assertEquals(1, QueuePolling.handle(b, p -> {
                seenByB.add(p);
                p.accept();
            }, 1, Duration.ofSeconds(5)), "queue B got the packet");
            Packet p = seenByB.get(0);
            assertEquals(QUEUE_B, p.queueNumber());
            assertEquals(Hook.LOCAL_OUT, p.hook());
            assertEquals("hand-over", UdpPackets.udpText(p.payloadBytes()));
            assertArrayEquals(seenByA.get(0), p.payloadBytes(), "the same packet, unchanged");

            List<byte[]> got = Udp.receive(sink, 2, Duration.ofSeconds(1), Duration.ofSeconds(5));
            assertEquals(List.of("hand-over"), got.stream().map(Udp::text).toList(), "arrives once");
            assertEquals(0, a.poll(x -> x.drop(), Duration.ofMillis(100)), "A must not see it again");
            assertEquals(0, a.stats().queued());
            assertEquals(0, b.stats().queued());
        }
    }

    @Test
    void requeueToAnUnboundQueueDrops() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue a = NetfilterQueue.open(QueueOptions.queue(QUEUE_A).networkNamespace(ns.path()))) {
            Udp.send(sender, "127.0.0.1", PORT, "nowhere");
            assertEquals(1, QueuePolling.handle(a, p -> p.requeue(QUEUE_B), 1, Duration.ofSeconds(5)));
            assertEquals(List.of(), Udp.receive(sink, 1, Duration.ofMillis(500), Duration.ofSeconds(2)));
            assertEquals(0, a.stats().queued());
        }
    }
}
