package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.ChildProcess;
import io.nfqueue.testing.ClassPaths;
import io.nfqueue.testing.QueuePolling;
import io.nfqueue.testing.UdpPackets;
import io.nfqueue.testing.UdpSendMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * uid/gid of the socket that sent a packet ({@code uidGid(true)}): the test JVM (root) sends one,
 * a child JVM running as nobody (65534/65534, via setpriv) sends another, and each packet names
 * its own sender. Without the option the kernel sends neither.
 */
@KernelTest
@Timeout(60)
class PacketOwnerKernelTest {
    private static final int PORT = 9200;
    private static final int QUEUE = 12;
    private static final int NOBODY = 65534;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void uidAndGidOfEachSendingSocket() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel rootSender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).uidGid(true).networkNamespace(ns.path()))) {
            Udp.send(rootSender, "127.0.0.1", PORT, "from-root");
            sendAsNobody("from-nobody");

            List<Packet> packets = QueuePolling.collect(queue, 2, Duration.ofSeconds(10));
            assertEquals(2, packets.size(), "packets queued: " + packets);
            for (Packet p : packets) {
                String text = UdpPackets.udpText(p.payloadBytes());
                int expected = text.equals("from-nobody") ? NOBODY : 0;
                assertEquals(OptionalInt.of(expected), p.uid(), "uid of " + text);
                assertEquals(OptionalInt.of(expected), p.gid(), "gid of " + text);
                p.accept();
            }
            Set<String> got = Udp.receive(sink, 2, Duration.ofSeconds(2), Duration.ofSeconds(5)).stream()
                    .map(Udp::text).collect(Collectors.toSet());
            assertEquals(Set.of("from-root", "from-nobody"), got);
        }
    }

    @Test
    void noUidOrGidWithoutTheOption() throws Exception {
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).uidGid(false).networkNamespace(ns.path()))) {
            Udp.send(sender, "127.0.0.1", PORT, "anonymous");
            List<Packet> packets = QueuePolling.collect(queue, 1, Duration.ofSeconds(5));
            assertEquals(1, packets.size());
            assertEquals(OptionalInt.empty(), packets.get(0).uid());
            assertEquals(OptionalInt.empty(), packets.get(0).gid());
            packets.get(0).accept();
        }
    }

    /** Runs {@link UdpSendMain} in the namespace as uid/gid 65534 with no supplementary groups. */
    private void sendAsNobody(String text) {
        List<String> prefix = List.of("ip", "netns", "exec", ns.name(), "setpriv", "--reuid=" + NOBODY,
                "--regid=" + NOBODY, "--clear-groups");
        // Only the test classes (the sender needs nothing else), copied where nobody can read them.
        String classpath = ClassPaths.testsOnly();
        try (ChildProcess child = ChildProcess.java(prefix, classpath, UdpSendMain.class, "127.0.0.1",
                Integer.toString(PORT), text)) {
            child.awaitLine("SENT", Duration.ofSeconds(20));
        }
    }
}
