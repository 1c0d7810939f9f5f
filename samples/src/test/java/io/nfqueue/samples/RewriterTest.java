package io.nfqueue.samples;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
}
