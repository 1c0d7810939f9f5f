package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.QueuePolling;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The payload limit at its edge, end to end: a verdict replacing a small datagram with a packet
 * of exactly {@link Verdict#MAX_PAYLOAD} (65 531) bytes is accepted by the kernel and the whole
 * datagram arrives (loopback's MTU is 65 536, so no fragmentation); one byte more is refused in
 * Java, when the verdict is built, so nothing reaches the native code and the packet is still
 * the program's to decide.
 */
@KernelTest
@Timeout(60)
class MaxPayloadVerdictKernelTest {
    private static final int PORT = 9980;
    private static final int QUEUE = 25;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE)
            .withIp6tables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @ParameterizedTest
    @CsvSource({"127.0.0.1, 20", "::1, 40"})
    void aPacketOf65531BytesIsDeliveredAndOneByteMoreIsRefusedInJava(String host, int ipHeader) throws Exception {
        try (DatagramChannel sink = ns.udpSocket(host, PORT);
             DatagramChannel sender = ns.udpSocket(host, 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            Udp.send(sender, host, PORT, "small");
            List<Packet> got = QueuePolling.collect(queue, 1, Duration.ofSeconds(5));
            assertEquals(1, got.size());
            Packet p = got.get(0);
            byte[] original = p.payloadBytes();

            byte[] text = new byte[Verdict.MAX_PAYLOAD - ipHeader - 8];
            for (int i = 0; i < text.length; i++) {
                text[i] = (byte) ('a' + i % 26);
            }
            byte[] largest = UdpPackets.withUdpPayload(original, text);
            assertEquals(65531, largest.length);
            byte[] tooLarge = Arrays.copyOf(largest, largest.length + 1);

            long sentBefore = queue.counters().verdictsSent();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> p.verdict(Verdict.accept().withPayload(tooLarge)));
            assertTrue(e.getMessage().contains("65532") && e.getMessage().contains("65531"), e.getMessage());
            assertFalse(p.isResolved(), "a refused verdict must leave the packet undecided");
            assertEquals(sentBefore, queue.counters().verdictsSent());

            p.verdict(Verdict.accept().withPayload(largest));
            byte[] arrived = Udp.receiveOne(sink, Duration.ofSeconds(5));
            assertNotNull(arrived, "the 65 531-byte packet did not arrive: " + queue.counters() + " " + queue.stats());
            assertEquals(text.length, arrived.length);
            assertArrayEquals(text, arrived);
            assertEquals(0, queue.poll(x -> x.accept(), Duration.ofMillis(100)));
            assertEquals(0, queue.counters().kernelErrors(), queue.counters().toString());
            assertEquals(0, queue.counters().sendFailures(), queue.counters().toString());
        }
    }
}
