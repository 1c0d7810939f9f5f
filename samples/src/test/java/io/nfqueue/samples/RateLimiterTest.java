package io.nfqueue.samples;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RateLimiterTest {
    @Test
    void aBucketPerSourceRefillsAtTheRate() {
        long[] now = {0};
        RateLimiter l = new RateLimiter(10, 3, null, () -> now[0]);
        ByteBuffer a = ByteBuffer.wrap(new byte[] {10, 0, 0, 1});
        ByteBuffer b = ByteBuffer.wrap(new byte[] {10, 0, 0, 2});
        for (int i = 0; i < 3; i++) {
            assertTrue(l.take(a), "burst " + i);
        }
        assertFalse(l.take(a));
        assertTrue(l.take(b), "another source has its own bucket");
        now[0] += 100_000_000;   // 0.1 s: one token
        assertTrue(l.take(a));
        assertFalse(l.take(a));
        now[0] += 10_000_000_000L;   // long idle: capped at the burst
        int n = 0;
        for (int i = 0; i < 10; i++) {
            n += l.take(a) ? 1 : 0;
        }
        assertEquals(3, n);
        assertEquals(2, l.sources());
    }
}
