package io.nfqueue.reactor;

import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.Async;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A slow subscriber under a flood: the kernel queue never exceeds the ceiling, the heap stays
 * bounded, and every packet is accounted for: delivered (and verdicted) or counted as dropped.
 */
@KernelTest
@Timeout(120)
class PacketReceiverFloodKernelTest {
    private static final int PORT = 9300;
    private static final int QUEUE = 21;
    private static final int CEILING = 64;
    private static final int SENT = 20_000;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void slowSubscriberKeepsKernelQueueAndHeapBounded() throws Exception {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                .maxLengthBounds(1, CEILING)
                .maxInFlight(CEILING)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();

        DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
        CompletableFuture<List<byte[]>> arriving = CompletableFuture.supplyAsync(() -> {
            try (DatagramChannel s = sink) {
                return Udp.receive(s, SENT, Duration.ofSeconds(3), Duration.ofSeconds(60));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, Async.THREAD_PER_TASK);
        AtomicLong maxQueued = new AtomicLong();
        Disposable running = receiver.receive()
                .limitRate(16)
                .subscribe(p -> {
                    spin(TimeUnit.MICROSECONDS.toNanos(200)); // slower than the sender
                    p.accept();
                });
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            for (int i = 0; i < SENT; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "flood-" + i);
                if (i % 500 == 0) {
                    QueueStats.find(ns.path(), QUEUE).ifPresent(s -> maxQueued.accumulateAndGet(s.queued(), Math::max));
                }
            }
            List<byte[]> arrived = arriving.get(90, TimeUnit.SECONDS);
            QueueStats stats = QueueStats.find(ns.path(), QUEUE).orElseThrow();
            System.gc();
            long heapAfter = memory.getHeapMemoryUsage().getUsed();
            QueueCounters counters = receiver.counters().get(0);

            assertTrue(maxQueued.get() <= CEILING, "kernel queue stayed at or below the ceiling: max " + maxQueued);
            assertTrue(stats.queueDropped() > 0, "the flood overflowed the queue (otherwise this test proves nothing): " + stats);
            assertEquals(SENT, counters.received() + stats.queueDropped() + stats.userDropped(),
                    "every packet delivered or counted as dropped: " + counters + " " + stats);
            assertEquals(counters.received(), arrived.size(), "every delivered packet was accepted and arrived");
            assertEquals(0, stats.queued(), "nothing left waiting");
            assertTrue(heapAfter - heapBefore < 32L << 20, "heap grew by " + ((heapAfter - heapBefore) >> 20) + " MiB");
        } finally {
            running.dispose();
        }
        Optional<QueueStats> after = QueueStats.find(ns.path(), QUEUE);
        assertTrue(after.isEmpty(), "unbound after dispose: " + after);
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
