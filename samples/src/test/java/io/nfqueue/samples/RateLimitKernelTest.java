package io.nfqueue.samples;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@KernelTest
@Timeout(60)
class RateLimitKernelTest {
    private static final int QUEUE = 12;
    private static final int PORT = 7400;
    private static final double RATE = 20;
    private static final int BURST = 10;

    @Test
    void aBurstFromOneSourcePassesAboutRateTimesTimePlusBurst() throws Exception {
        RateLimiter limiter = new RateLimiter(RATE, BURST, null, System::nanoTime);
        try (NetNamespace ns = NetNamespace.create();
             DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel noisy = ns.udpSocket("127.0.0.1", 0);
             DatagramChannel quiet = ns.udpSocket("127.0.0.2", 0)) {
            ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE + " --queue-bypass");
            PrintStream log = new PrintStream(new ByteArrayOutputStream());
            Throwable[] failed = {null};
            Thread limiterThread = new Thread(() -> {
                try {
                    RateLimitCli.run(QUEUE, ns.path(), 0, limiter, Duration.ofSeconds(1), Duration.ofSeconds(6), log);
                } catch (Throwable t) {
                    failed[0] = t;
                }
            }, "ratelimit-test");
            limiterThread.start();
            // Wait until the queue is bound: a probe from a third source gets through the queue.
            try (DatagramChannel probe = ns.udpSocket("127.0.0.3", 0)) {
                // Before the bind, bypass lets probes through unseen.
                long until = System.nanoTime() + 10_000_000_000L;
                while (limiter.passed.get() == 0 && failed[0] == null && System.nanoTime() < until) {
                    Udp.send(probe, "127.0.0.1", PORT, "probe");
                    Udp.receiveOne(sink, Duration.ofMillis(100));
                    Thread.sleep(50);
                }
                assertTrue(limiter.passed.get() > 0, "the limiter never saw a packet: " + failed[0]);
                Udp.receive(sink, 100, Duration.ofMillis(300), Duration.ofSeconds(2));   // late probes
            }
            long probes = limiter.passed.get() + limiter.limited.get();

            // 400 datagrams over about 2 s (200/s) from 127.0.0.1; 5 from 127.0.0.2.
            long start = System.nanoTime();
            for (int i = 0; i < 400; i++) {
                Udp.send(noisy, "127.0.0.1", PORT, "n-" + i);
                if (i % 5 == 4) {
                    Thread.sleep(25);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            for (int i = 0; i < 5; i++) {
                Udp.send(quiet, "127.0.0.1", PORT, "q-" + i);
            }
            List<byte[]> got = Udp.receive(sink, 1000, Duration.ofSeconds(1), Duration.ofSeconds(10));
            long noisyArrived = got.stream().filter(b -> Udp.text(b).startsWith("n-")).count();
            long quietArrived = got.stream().filter(b -> Udp.text(b).startsWith("q-")).count();
            double expected = BURST + RATE * seconds;
            assertEquals(5, quietArrived, "another source is not limited by the first one's bucket");
            assertTrue(Math.abs(noisyArrived - expected) <= 3 + 0.15 * expected,
                    "passed " + noisyArrived + ", expected about " + expected + " (" + seconds + " s)");
            assertEquals(405, limiter.passed.get() + limiter.limited.get() - probes, limiter.report());
            assertEquals(noisyArrived + quietArrived, limiter.passed.get() - probes, "exactly the passed ones arrive: "
                    + limiter.report());
            limiterThread.join(10_000);
            assertEquals(null, failed[0]);
        }
    }
}
