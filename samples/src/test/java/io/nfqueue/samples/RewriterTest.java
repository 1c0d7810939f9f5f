package io.nfqueue.samples;

import io.nfqueue.BoundQueue;
import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class RewriterTest {
    @Test
    void replacesBytesInUdpPayloads() {
        byte[] a = "ab".getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals("xyzcxyz".getBytes(StandardCharsets.US_ASCII),
                Rewriter.replace("abcab".getBytes(StandardCharsets.US_ASCII), a, "xyz".getBytes(StandardCharsets.US_ASCII)));
        assertArrayEquals("c".getBytes(StandardCharsets.US_ASCII),
                Rewriter.replace("abcab".getBytes(StandardCharsets.US_ASCII), a, new byte[0]));
        assertNull(Rewriter.replace("a".getBytes(StandardCharsets.US_ASCII), a, a));
    }

    /** A packet the editor refuses is accepted unchanged and counted with the editor's reason. */
    @Test
    void refusedEditsAreCountedWithTheirReason() {
        Rewriter rewriter = new Rewriter("cat".getBytes(StandardCharsets.US_ASCII), "dog".getBytes(StandardCharsets.US_ASCII));
        FakeTransport fake = new FakeTransport();
        try (NetfilterQueue queue = NetfilterQueue.of(BoundQueue.open(QueueOptions.queue(5)
                .defaultVerdict(Verdict.accept()), fake))) {
            fake.offer(1, 5, firstFragment("cat and cat"));
            fake.offer(2, 5, firstFragment("a cat"));
            assertEquals(2, queue.poll(rewriter, Duration.ofSeconds(1)));
        }
        assertEquals("rewritten 0, unchanged 0, left as they were 2 (2 fragment)", rewriter.report());
    }

    /** The first fragment (more-fragments set) of a UDP datagram from 10.0.0.1:5000 to 10.0.0.2:9999. */
    private static byte[] firstFragment(String payload) {
        byte[] data = payload.getBytes(StandardCharsets.US_ASCII);
        int total = 20 + 8 + data.length;
        byte[] p = new byte[total];
        p[0] = 0x45;
        p[2] = (byte) (total >> 8);
        p[3] = (byte) total;
        p[4] = 0x12;
        p[6] = 0x20;   // MF, offset 0
        p[8] = 64;
        p[9] = 17;
        p[12] = 10;
        p[15] = 1;
        p[16] = 10;
        p[19] = 2;
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += (p[i] & 0xFF) << 8 | (p[i + 1] & 0xFF);
        }
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        p[10] = (byte) (~sum >> 8);
        p[11] = (byte) ~sum;
        int udpLength = 8 + data.length;
        p[20] = (byte) (5000 >> 8);
        p[21] = (byte) 5000;
        p[22] = (byte) (9999 >> 8);
        p[23] = (byte) 9999;
        p[24] = (byte) (udpLength >> 8);
        p[25] = (byte) udpLength;
        System.arraycopy(data, 0, p, 28, data.length);
        return p;
    }
}
