package io.nfqueue;

import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.Await;
import io.nfqueue.testing.ChildProcess;
import io.nfqueue.testing.HoldQueueMain;
import io.nfqueue.testing.QueuePolling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A process that holds packets dies with SIGKILL: no close(), no default verdict. The kernel
 * sees the netlink socket released (NETLINK_URELEASE), destroys the queue instance and drops
 * every packet it held for it (nfqnl_rcv_nl_event, instance_destroy, nfqnl_flush with no match
 * function: NF_DROP for all). Nobody is bound afterwards, so a {@code --queue-bypass} rule lets
 * new traffic through, and the number can be bound again at once by another socket.
 */
@KernelTest
@Timeout(90)
class ProcessDeathKernelTest {
    private static final int PORT = 9970;
    private static final int QUEUE = 23;
    private static final int HELD = 5;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE + " --queue-bypass");

    @Test
    void sigkillOfTheHolderDropsItsPacketsThenBypassAndRebindWork() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            ChildProcess holder = ChildProcess.java(List.of(), ChildProcess.testClassPath(), HoldQueueMain.class,
                    String.valueOf(QUEUE), ns.path().toString());
            long childPid;
            try {
                String bound = holder.awaitLine("BOUND ", Duration.ofSeconds(30));
                childPid = Long.parseLong(bound.split(" ")[1]);
                QueueStats line = KernelQueues.find(ns, QUEUE).orElseThrow(() -> new AssertionError("not bound: "
                        + KernelQueues.all(ns)));
                assertEquals(Long.parseLong(bound.split(" ")[2]), line.portId(), line.toString());

                // The child never reads nor gives verdicts: the kernel holds every packet.
                for (int i = 0; i < HELD; i++) {
                    Udp.send(sender, "127.0.0.1", PORT, "held-" + i);
                }
                assertTrue(Await.until(() -> KernelQueues.find(ns, QUEUE).map(QueueStats::queued).orElse(0L) == HELD,
                        Duration.ofSeconds(5)), "held count: " + KernelQueues.all(ns));
                assertEquals(List.of(), Udp.receive(sink, 1, Duration.ofMillis(300), Duration.ofSeconds(1)),
                        "nothing passes while the packets are held");
            } finally {
                // SIGKILL (destroyForcibly) to the child JVM: no shutdown hook, no close().
                holder.close();
            }
            assertTrue(Await.until(() -> ProcessHandle.of(childPid).isEmpty()
                    || !ProcessHandle.of(childPid).get().isAlive(), Duration.ofSeconds(10)), "the child is still alive");

            // The kernel unbinds the dead socket's queue...
            assertTrue(Await.until(() -> KernelQueues.find(ns, QUEUE).isEmpty(), Duration.ofSeconds(5)),
                    "the queue line survived its owner: " + KernelQueues.all(ns));
            // ...and dropped what it held: none of the held datagrams ever reaches the sink.
            List<String> late = Udp.receive(sink, HELD, Duration.ofSeconds(2), Duration.ofSeconds(3)).stream()
                    .map(Udp::text).toList();
            assertEquals(List.of(), late, "held packets must be dropped by the kernel, not released");

            // Nobody is bound: the bypass rule accepts new traffic.
            Udp.send(sender, "127.0.0.1", PORT, "bypassed");
            assertEquals("bypassed", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));

            // The number binds again at once (another socket, this JVM) and works.
            try (NetfilterQueue again = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
                Optional<QueueStats> line = KernelQueues.find(ns, QUEUE);
                assertTrue(line.isPresent() && line.get().queued() == 0, "fresh binding: " + line);
                Udp.send(sender, "127.0.0.1", PORT, "after-rebind");
                List<Packet> got = QueuePolling.collect(again, 1, Duration.ofSeconds(5));
                assertEquals(1, got.size());
                assertEquals(1, got.get(0).id(), "a new instance numbers its packets from 1");
                got.get(0).accept();
                assertEquals("after-rebind", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
                assertTrue(Await.until(() -> again.stats().queued() == 0, Duration.ofSeconds(5)));
                assertEquals(0, again.counters().kernelErrors(), again.counters().toString());
                assertFalse(Udp.receive(sink, 1, Duration.ofMillis(300), Duration.ofSeconds(1)).stream()
                        .map(Udp::text).anyMatch(t -> t.startsWith("held-")), "a held packet reappeared");
            }
        }
    }
}
