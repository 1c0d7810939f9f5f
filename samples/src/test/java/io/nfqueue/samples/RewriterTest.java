package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.test.Packets;
import io.nfqueue.test.QueuedPacket;
import io.nfqueue.test.TestQueue;
import io.nfqueue.test.UdpPacketBuilder;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The rewriter's byte replacement, and the rewrite pipeline on the test kit's queue (no kernel, no root). */
class RewriterTest {
    private static final UdpPacketBuilder V4 = Packets.udp().from("10.0.0.1", 5000).to("10.0.0.2", 9999);
    private static final UdpPacketBuilder V6 = Packets.udp().from("2001:db8::1", 5000).to("2001:db8::2", 9999);

    @Test
    void replacesBytesInUdpPayloads() {
        byte[] a = "ab".getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals("xyzcxyz".getBytes(StandardCharsets.US_ASCII),
                Rewriter.replace("abcab".getBytes(StandardCharsets.US_ASCII), a, "xyz".getBytes(StandardCharsets.US_ASCII)));
        assertArrayEquals("c".getBytes(StandardCharsets.US_ASCII),
                Rewriter.replace("abcab".getBytes(StandardCharsets.US_ASCII), a, new byte[0]));
        assertNull(Rewriter.replace("a".getBytes(StandardCharsets.US_ASCII), a, a));
    }

    /** Runs the rewriter as the rewrite command does (its queue options, the samples' poll loop). */
    private static void rewrite(TestQueue queue, Rewriter rewriter) {
        try (NetfilterQueue q = queue.open(Rewriter.queueOptions(queue.queueNumber()))) {
            Samples.pollLoop(q, rewriter, Duration.ofMillis(100), Duration.ofMillis(300), () -> { });
        }
    }

    /**
     * The replaced packet is exactly the packet the builder makes with the new payload: IP and
     * UDP lengths and both checksums follow a payload that grows, over IPv4 and IPv6. TCP,
     * datagrams without the string, and a copy cut short pass unchanged.
     */
    @Test
    void rewritesUdpPayloadsWithLengthsAndChecksumsRight() {
        Rewriter rewriter = new Rewriter(bytes("cat"), bytes("tiger"));
        TestQueue queue = TestQueue.create(5);
        queue.offer(V4.payload("cat and cat").build(), V6.payload("a cat").build(),
                Packets.tcp().from("10.0.0.1", 5000).to("10.0.0.2", 9999).payload("cat").build(),
                V4.payload("no felines here").build());
        queue.offer(QueuedPacket.of(V4.payload("a long datagram about a cat").build()).truncatedTo(40));

        rewrite(queue, rewriter);

        queue.expectVerdicts(accepted().withPayload(V4.payload("tiger and tiger").build()),
                accepted().withPayload(V6.payload("a tiger").build()),
                accepted().unchanged(), accepted().unchanged(), accepted().unchanged());
        assertEquals("rewritten 2, unchanged 3, left as they were 0", rewriter.report());
    }

    /** A packet the editor refuses is accepted unchanged and counted with the editor's reason. */
    @Test
    void refusedEditsAreCountedWithTheirReason() {
        Rewriter rewriter = new Rewriter(bytes("cat"), bytes("dog"));
        TestQueue queue = TestQueue.create(5);
        // First fragments (more-fragments set) of datagrams from 10.0.0.1:5000 to 10.0.0.2:9999.
        queue.offer(V4.payload("cat and cat").fragment(0, true).build(), V4.payload("a cat").fragment(0, true).build());

        rewrite(queue, rewriter);

        queue.expectVerdicts(accepted().unchanged(), accepted().unchanged());
        assertEquals("rewritten 0, unchanged 0, left as they were 2 (2 fragment)", rewriter.report());
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
