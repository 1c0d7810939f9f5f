package io.nfqueue.samples;

import io.nfqueue.test.Packets;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The token buckets, and the ratelimit pipeline on the test kit's queue (no kernel, no root). */
class RateLimiterTest {
    private static final Duration VERIFY = Duration.ofSeconds(30);

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

    private static byte[] from(String source) {
        return Packets.udp().from(source, 40000).to(source.contains(":") ? "2001:db8::9" : "10.0.0.9", 9999).payload("x")
                .build();
    }

    /**
     * The ratelimit command's pipeline (its receiver options, {@code receiver.process(limiter)})
     * with the limiter on virtual time: 10 packets/s after a burst of 3, per source, over IPv4
     * and IPv6; a tenth of a second refills one token; a long pause refills the burst, no more.
     */
    @Test
    void thePipelineDropsWhatASourceSendsOverItsRate() {
        TestQueue queue = TestQueue.create(12);
        AtomicReference<RateLimiter> limiter = new AtomicReference<>();
        String a = "10.0.0.1";
        String b = "2001:db8::2";

        StepVerifier.withVirtualTime(() -> {
                    VirtualTimeScheduler clock = VirtualTimeScheduler.get();
                    limiter.set(new RateLimiter(10, 3, null, () -> clock.now(TimeUnit.NANOSECONDS)));
                    return RateLimitCli.limit(queue.receiver(RateLimitCli.receiverOptions(queue.queueNumber())),
                            limiter.get());
                })
                .then(() -> queue.offer(from(a), from(a), from(a), from(a), from(b)))
                .expectNextCount(5)
                .thenAwait(Duration.ofMillis(100))
                .then(() -> queue.offer(from(a), from(a)))
                .expectNextCount(2)
                .thenAwait(Duration.ofSeconds(10))
                .then(() -> queue.offer(from(a), from(a), from(a), from(a), from(a)))
                .expectNextCount(5)
                .then(() -> queue.expectVerdicts(
                        accepted(), accepted(), accepted(), dropped(), accepted(),
                        accepted(), dropped(),
                        accepted(), accepted(), accepted(), dropped(), dropped()))
                .thenCancel()
                .verify(VERIFY);
        assertEquals("passed 8, dropped 4, sources 2", limiter.get().report());
    }

    /** With --mark the excess passes marked; a packet that does not parse passes, untouched and unlimited. */
    @Test
    void withAMarkTheExcessPassesMarked() {
        TestQueue queue = TestQueue.create(12);
        RateLimiter limiter = new RateLimiter(10, 1, 0x20, () -> 0L);   // a clock that stands still
        queue.offer(from("10.0.0.1"), from("10.0.0.1"), from("10.0.0.1"),
                Packets.udp().from("10.0.0.1", 40000).brokenIpLength(8).build());

        StepVerifier.create(RateLimitCli.limit(queue.receiver(RateLimitCli.receiverOptions(queue.queueNumber())), limiter)
                        .take(4))
                .expectNextCount(4)
                .expectComplete()
                .verify(VERIFY);

        queue.expectVerdicts(accepted().unchanged(), accepted().withMark(0x20), accepted().withMark(0x20),
                accepted().unchanged());
        assertEquals("passed 2, marked 2, sources 1", limiter.report());
    }
}
