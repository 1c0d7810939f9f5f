package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.QueuePolling;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Verdict.accept().withPayload(...)} replacing a UDP packet with one of another length:
 * the test builds the new packet (IP length, UDP length, IPv4 header checksum, UDP checksum over
 * the pseudo-header) and the receiving socket must get exactly the new text. The kernel
 * re-validates the checksums of a replaced packet on the way in (it marks it
 * CHECKSUM_NONE), which {@link #aReplacementWithABadChecksumIsNotDelivered} shows; so delivery
 * proves the library handed the kernel the bytes intact, at their length.
 */
@KernelTest
@Timeout(60)
class PayloadRewriteKernelTest {
    private static final int PORT = 9300;
    private static final int QUEUE = 13;
    private static final String ORIGINAL = "the original payload";
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE)
            .withIp6tables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void longerPayloadArrivesIntactIPv4() throws Exception {
        rewrite("127.0.0.1", "longer:" + "0123456789".repeat(150));
    }

    @Test
    void shorterPayloadArrivesIntactIPv4() throws Exception {
        rewrite("127.0.0.1", "short");
    }

    @Test
    void longerPayloadArrivesIntactIPv6() throws Exception {
        rewrite("::1", "longer:" + "abcdefghij".repeat(150));
    }

    @Test
    void shorterPayloadArrivesIntactIPv6() throws Exception {
        rewrite("::1", "s");
    }

    @Test
    void emptyUdpPayloadArrivesAsAnEmptyDatagram() throws Exception {
        rewrite("127.0.0.1", "");
    }

    private void rewrite(String host, String replacement) throws Exception {
        try (DatagramChannel sink = ns.udpSocket(host, PORT);
             DatagramChannel sender = ns.udpSocket(host, 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            Udp.send(sender, host, PORT, ORIGINAL);
            byte[] newText = replacement.getBytes(StandardCharsets.UTF_8);
            int handled = QueuePolling.handle(queue, p -> {
                byte[] original = p.payloadBytes();
                assertEquals(ORIGINAL, UdpPackets.udpText(original), p.toString());
                byte[] replaced = UdpPackets.withUdpPayload(original, newText);
                assertEquals(original.length - ORIGINAL.length() + newText.length, replaced.length);
                p.verdict(Verdict.accept().withPayload(replaced));
            }, 1, Duration.ofSeconds(5));
            assertEquals(1, handled);

            Udp.Datagram d = Udp.receiveFrom(sink, Duration.ofSeconds(5));
            assertNotNull(d, "the rewritten datagram did not arrive");
            assertEquals(replacement, Udp.text(d.data()), "datagram of " + d.data().length + " bytes");
            InetSocketAddress from = (InetSocketAddress) d.source();
            assertEquals(((InetSocketAddress) sender.getLocalAddress()).getPort(), from.getPort(), "source port kept");
            assertEquals(0, queue.counters().kernelErrors(), "kernel refused a verdict: " + queue.counters());
        }
    }

    /**
     * The control for the tests above: the same rewrite with one bit of the UDP checksum wrong
     * must not reach the socket. If it did, the kernel would not be checking, and the tests
     * above would not prove the library keeps the bytes.
     */
    @Test
    void aReplacementWithABadChecksumIsNotDelivered() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            Udp.send(sender, "127.0.0.1", PORT, "bad");
            Udp.send(sender, "127.0.0.1", PORT, "good");
            int handled = QueuePolling.handle(queue, p -> {
                byte[] original = p.payloadBytes();
                String text = UdpPackets.udpText(original);
                byte[] replaced = UdpPackets.withUdpPayload(original, (text + "-rewritten").getBytes(StandardCharsets.UTF_8));
                assertTrue(UdpPackets.checksumsValid(replaced));
                if (text.equals("bad")) {
                    replaced[UdpPackets.udpOffset(replaced) + 7] ^= 1;
                }
                p.verdict(Verdict.accept().withPayload(replaced));
            }, 2, Duration.ofSeconds(5));
            assertEquals(2, handled);
            List<byte[]> got = Udp.receive(sink, 2, Duration.ofSeconds(1), Duration.ofSeconds(5));
            assertEquals(List.of("good-rewritten"), got.stream().map(Udp::text).toList());
        }
    }
}
