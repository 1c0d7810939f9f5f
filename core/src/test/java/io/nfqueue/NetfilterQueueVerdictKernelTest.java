package io.nfqueue;

import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.Async;
import io.nfqueue.testing.Await;
import io.nfqueue.testing.QueuePolling;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verdicts given after the handler returned, from other threads, in an order unlike the
 * arrival order: each packet gets its own verdict (accepted ones arrive once, dropped ones
 * never), the kernel ends holding none, and it refused none. The order is where a verdict
 * batcher that merges accepts into one NFQNL_MSG_VERDICT_BATCH would go wrong.
 */
@KernelTest
@Timeout(60)
class NetfilterQueueVerdictKernelTest {
    private static final int PORT = 9400;
    private static final int QUEUE = 14;
    private NetNamespace ns;
    private ExecutorService pool;

    @BeforeEach
    void setUp() {
        ns = NetNamespace.create();
        ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
        ns.ip6tables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
        pool = Executors.newFixedThreadPool(4);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
        ns.close();
    }

    @Test
    void reverseOrderFromAnotherThreadIPv4() throws Exception {
        outOfOrder("127.0.0.1", 16, 1, packets -> Collections.reverse(packets));
    }

    @Test
    void randomOrderFromAnotherThreadIPv6() throws Exception {
        long seed = System.nanoTime();
        System.out.println("randomOrderFromAnotherThreadIPv6 seed " + seed);
        outOfOrder("::1", 32, 1, packets -> Collections.shuffle(packets, new Random(seed)));
    }

    @Test
    void randomOrderFromFourThreadsAtOnce() throws Exception {
        long seed = System.nanoTime();
        System.out.println("randomOrderFromFourThreadsAtOnce seed " + seed);
        outOfOrder("127.0.0.1", 200, 4, packets -> Collections.shuffle(packets, new Random(seed)));
    }

    /**
     * Sends {@code n} datagrams, holds them all unresolved, then {@code threads} threads give the
     * verdicts in the order {@code order} makes: every third one dropped, the rest accepted.
     */
    private void outOfOrder(String host, int n, int threads, Consumer<List<Packet>> order) throws Exception {
        try (DatagramChannel sink = ns.udpSocket(host, PORT);
             DatagramChannel sender = ns.udpSocket(host, 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Udp.send(sender, host, PORT, "p-" + i);
                if (i % 3 != 0) {
                    expected.add("p-" + i);
                }
            }
            List<Packet> held = QueuePolling.collect(queue, n, Duration.ofSeconds(10));
            assertEquals(n, held.size(), "packets queued");
            assertEquals(n, KernelQueues.find(ns, QUEUE).orElseThrow().queued(), "the kernel holds all of them");

            // Read the sink while verdicts are given, so its buffer cannot overflow.
            // It returns as soon as all expected came; extras are looked for afterwards.
            int wanted = expected.size();
            Future<List<byte[]>> arrived = CompletableFuture.supplyAsync(
                    () -> Udp.receive(sink, wanted, Duration.ofSeconds(5), Duration.ofSeconds(20)),
                    Async.THREAD_PER_TASK);
            List<Packet> ordered = new ArrayList<>(held);
            order.accept(ordered);
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                workers.add(pool.submit(() -> {
                    for (int i = first; i < ordered.size(); i += threads) {
                        Packet p = ordered.get(i);
                        int number = Integer.parseInt(UdpPackets.udpText(p.payloadBytes()).substring(2));
                        if (number % 3 == 0) {
                            p.drop();
                        } else {
                            p.accept();
                        }
                    }
                }));
            }
            for (Future<?> w : workers) {
                w.get(10, TimeUnit.SECONDS);
            }

            List<String> got = new ArrayList<>();
            for (byte[] d : arrived.get(30, TimeUnit.SECONDS)) {
                got.add(Udp.text(d));
            }
            for (byte[] d : Udp.receive(sink, n, Duration.ofMillis(300), Duration.ofSeconds(2))) {
                got.add(Udp.text(d)); // duplicates or dropped packets that arrived anyway
            }
            Collections.sort(got);
            Collections.sort(expected);
            assertEquals(expected, got, "accepted packets arrive exactly once, dropped ones never");
            assertTrue(Await.until(() -> queue.stats().queued() == 0, Duration.ofSeconds(5)),
                    "the kernel still holds packets: " + queue.stats());
            // Read what the kernel sent back (error acks come in on the receive path); no packet is left.
            int extra = queue.poll(p -> { }, Duration.ofMillis(200));
            assertEquals(0, extra, "no packet should still be queued");
            QueueCounters c = queue.counters();
            assertEquals(n, c.verdictsSent(), c.toString());
            assertEquals(0, c.kernelErrors(), "the kernel refused verdicts: " + c);
            assertEquals(0, c.unresolved(), c.toString());
        }
    }
}
