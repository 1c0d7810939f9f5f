package io.nfqueue;

import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.Await;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 100 000 packets through a real queue, their verdicts given by 8 worker threads at once (every
 * third dropped, the rest accepted; plain accepts may travel as batch verdicts): each packet gets
 * exactly one verdict, which the kernel applies to it alone: every accepted datagram arrives
 * exactly once, no dropped one arrives, the kernel refuses nothing (a verdict twice, or a batch
 * covering a packet already decided, would come back ENOENT), and nothing stays queued.
 */
@KernelTest
@Timeout(180)
class ConcurrentVerdictsKernelTest {
    private static final int PORT = 9985;
    private static final int QUEUE = 26;
    private static final int PACKETS = 100_000;
    private static final int THREADS = 8;
    /**
     * Packets sent ahead of their end (a drop verdict, or arrival at the sink): small enough for
     * the queue's buffers and for the sink's (net.core.rmem_max, some 550 such datagrams), also
     * when the sink reader runs late: a window over verdicts alone let accepted packets pile up.
     */
    private static final int WINDOW = 128;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void eightThreadsGiveOneHundredThousandVerdictsEachExactlyOnce() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger verdicted = new AtomicInteger();
        AtomicInteger droppedByVerdict = new AtomicInteger();
        AtomicInteger arrivals = new AtomicInteger();
        AtomicLong duplicates = new AtomicLong();
        AtomicLong droppedButArrived = new AtomicLong();
        BitSet arrived = new BitSet(PACKETS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
        List<Thread> threads = new ArrayList<>();
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            List<BlockingQueue<Packet>> work = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                BlockingQueue<Packet> mine = new ArrayBlockingQueue<>(PACKETS);
                work.add(mine);
                threads.add(new Thread(() -> {
                    try {
                        while (verdicted.get() < PACKETS && System.nanoTime() < deadline) {
                            Packet p = mine.poll(20, TimeUnit.MILLISECONDS);
                            if (p == null) {
                                continue;
                            }
                            int index = index(UdpPackets.udpText(p.payloadBytes()));
                            if (index % 3 == 0) {
                                p.drop();
                                droppedByVerdict.incrementAndGet();
                            } else {
                                p.accept();
                            }
                            verdicted.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "verdicter-" + t));
            }
            Thread sinkReader = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocate(2048);
                try {
                    sink.configureBlocking(true);
                    while (System.nanoTime() < deadline) {
                        buf.clear();
                        sink.receive(buf);
                        int index = index(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
                        if (index < 0) {
                            return; // the end marker
                        }
                        arrivals.incrementAndGet();
                        synchronized (arrived) {
                            if (arrived.get(index)) {
                                duplicates.incrementAndGet();
                            }
                            arrived.set(index);
                        }
                        if (index % 3 == 0) {
                            droppedButArrived.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "sink-reader");
            Thread senderThread = new Thread(() -> {
                try {
                    for (int i = 0; i < PACKETS && System.nanoTime() < deadline && failure.get() == null; i++) {
                        while (i - (droppedByVerdict.get() + arrivals.get()) >= WINDOW && System.nanoTime() < deadline) {
                            LockSupport.parkNanos(20_000);
                        }
                        Udp.send(sender, "127.0.0.1", PORT, "c-" + i);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "sender");
            threads.add(sinkReader);
            threads.add(senderThread);
            threads.forEach(Thread::start);

            // This thread receives and deals the packets out to the verdict threads, round robin.
            AtomicInteger dealt = new AtomicInteger();
            while (dealt.get() < PACKETS && System.nanoTime() < deadline && failure.get() == null) {
                queue.poll(p -> work.get(dealt.getAndIncrement() % THREADS).add(p), Duration.ofMillis(20));
            }
            assertNull(failure.get(), () -> "failed: " + failure.get());
            assertEquals(PACKETS, dealt.get(), "received " + dealt.get() + ": " + queue.counters() + " " + queue.stats());
            assertTrue(Await.until(() -> {
                queue.poll(p -> failure.set(new AssertionError("an extra packet: " + p)), Duration.ofMillis(10));
                return verdicted.get() == PACKETS && queue.stats().queued() == 0;
            }, Duration.ofSeconds(20)), "verdicted " + verdicted.get() + ", " + queue.stats());
            // Kernel errors come back asynchronously: give them a moment to arrive.
            queue.poll(p -> failure.set(new AssertionError("an extra packet: " + p)), Duration.ofMillis(200));

            int expectedArrivals = PACKETS - (PACKETS + 2) / 3;
            assertTrue(Await.until(() -> {
                synchronized (arrived) {
                    return arrived.cardinality() >= expectedArrivals;
                }
            }, Duration.ofSeconds(10)), () -> "arrived " + arrived.cardinality() + " of " + expectedArrivals);
            ns.iptables("-F OUTPUT");
            Udp.send(sender, "127.0.0.1", PORT, "end");
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(10));
            }

            assertNull(failure.get(), () -> "failed: " + failure.get());
            QueueCounters c = queue.counters();
            QueueStats s = KernelQueues.find(ns, QUEUE).orElseThrow();
            System.out.println("concurrent verdicts: " + c + " / kernel " + s);
            assertEquals(PACKETS, c.received(), c.toString());
            assertEquals(PACKETS, c.verdictsSent(), c.toString());
            assertEquals(0, c.totalDefaultVerdicts(), c.toString());
            assertEquals(0, c.kernelErrors(), "the kernel refused verdicts (twice, or a batch over a decided id): " + c);
            assertEquals(0, c.sendFailures(), c.toString());
            assertEquals(0, c.receiveBufferDrops(), c.toString());
            assertEquals(0, s.queued(), s.toString());
            assertEquals(0, s.queueDropped(), s.toString());
            assertEquals(0, s.userDropped(), s.toString());
            assertEquals(0, duplicates.get(), "datagrams delivered twice");
            assertEquals(0, droppedButArrived.get(), "dropped datagrams that arrived");
            assertEquals(expectedArrivals, arrived.cardinality());
        } finally {
            for (Thread t : threads) {
                t.interrupt();
            }
        }
    }

    /** "c-123" -> 123; anything else (the end marker) -> -1. */
    private static int index(String text) {
        return text.startsWith("c-") ? Integer.parseInt(text.substring(2)) : -1;
    }
}
