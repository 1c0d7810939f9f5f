package io.nfqueue.reactor;

import io.nfqueue.QueueStats;
import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Overload under the DROP policy, with memory measured in the receiving JVM: a child JVM
 * ({@link FloodReceiverMain}: fixed 64 MiB heap, pre-touched, native memory tracking on) runs a
 * subscriber that takes 200 µs per packet, while this JVM floods the queue as fast as one thread
 * can send for {@value #FLOOD_SECONDS} s (far above the 5 000 packets/s the subscriber handles).
 * <ol>
 *   <li>During the flood: the kernel queue stays at or under the ceiling ({@value #CEILING}); the
 *       child's RSS (sampled every 20 ms, and the kernel's own high-water mark VmHWM), its native
 *       memory (NMT, committed outside the Java heap) and its direct buffers stay within the stated
 *       bounds of the baseline taken after a warm-up.</li>
 *   <li>Accounting: every packet sent was delivered or counted by the kernel as dropped; every
 *       delivered packet was accepted and arrived exactly once; no default verdict, no kernel error.</li>
 *   <li>Full delivery resumes when the flood stops: {@value #RESUME} packets sent one at a time,
 *       each delivered to the subscriber, verdicted and arrived before the next is sent, while the
 *       kernel's drop counters do not move.</li>
 * </ol>
 */
@KernelTest
@Timeout(120)
class PacketReceiverOverloadKernelTest {
    private static final int PORT = 9440;
    private static final int QUEUE = 44;
    private static final int CEILING = 64;
    private static final int SPIN_MICROS = 200;
    private static final int WARMUP = 3_000;
    private static final int FLOOD_SECONDS = 3;
    private static final int FLOOD_MAX = 3_000_000;
    private static final int RESUME = 500;
    private static final int HEAP_MIB = 64;
    /** Bounds (KiB) on growth over the baseline during the flood. */
    private static final long RSS_GROWTH_BOUND_KIB = 16 << 10;
    private static final long NMT_GROWTH_BOUND_KIB = 16 << 10;
    /** Bound (KiB) on the child's whole RSS at its peak: 64 MiB of heap, pre-touched, and the rest. */
    private static final long RSS_BOUND_KIB = 192 << 10;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void floodKeepsQueueAndMemoryBoundedThenFullDeliveryResumes() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ChildProcess.javaBinary(),
                "-Xms" + HEAP_MIB + "m", "-Xmx" + HEAP_MIB + "m", "-XX:+AlwaysPreTouch",
                "-XX:NativeMemoryTracking=summary", "-Xcheck:jni", "-XX:-UsePerfData", ChildProcess.ENABLE_NATIVE_ACCESS,
                "-cp", ChildProcess.testClassPath(), FloodReceiverMain.class.getName(),
                String.valueOf(QUEUE), ns.path().toString(), String.valueOf(CEILING), String.valueOf(SPIN_MICROS)));
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT));
             ChildProcess child = ChildProcess.start(cmd)) {
            child.awaitLine("BOUND ", Duration.ofSeconds(30));
            assertTrue(KernelQueues.find(ns, QUEUE).isPresent(), "the child bound the queue");

            // Warm-up, paced (at most 4 ahead of the sink: limitRate(16) keeps at least 4 of demand
            // outstanding, and the kernel max-length follows demand): the JIT compiles the receive
            // path before the baseline is taken.
            long start = System.nanoTime();
            for (int i = 0; i < WARMUP; i++) {
                long ahead = i;
                waitFor(() -> ahead - sink.total() < 4, Duration.ofSeconds(10), () -> "warm-up stalled at " + ahead
                        + ", arrived " + sink.total() + "\n" + child.transcriptText());
                Udp.send(sender, "127.0.0.1", PORT, "warmup-" + i);
            }
            waitFor(() -> sink.total() == WARMUP, Duration.ofSeconds(10), () -> "warm-up arrived " + sink.total());
            QueueStats beforeFlood = kernel();
            assertEquals(0, beforeFlood.queueDropped(), "the paced warm-up lost nothing: " + beforeFlood);
            double warmupSeconds = (System.nanoTime() - start) / 1e9;

            child.writeLine("MARK");
            Map<String, Long> base = values(child.awaitLine("BASE ", Duration.ofSeconds(30)));

            // The flood, with the kernel queue watched from another thread.
            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicLong maxQueued = new AtomicLong();
            AtomicLong queueSamples = new AtomicLong();
            AtomicReference<Throwable> watchFailure = new AtomicReference<>();
            Thread watch = new Thread(() -> {
                try {
                    while (flooding.get()) {
                        QueueStats.find(ns.path(), QUEUE).ifPresent(s -> maxQueued.accumulateAndGet(s.queued(), Math::max));
                        queueSamples.incrementAndGet();
                        LockSupport.parkNanos(2_000_000);
                    }
                } catch (Throwable e) {
                    watchFailure.set(e);
                }
            }, "kernel-queue-watch");
            watch.start();
            long floodSent = 0;
            long floodStart = System.nanoTime();
            long floodEnd = floodStart + TimeUnit.SECONDS.toNanos(FLOOD_SECONDS);
            try {
                while (floodSent < FLOOD_MAX && ((floodSent & 255) != 0 || System.nanoTime() < floodEnd)) {
                    Udp.send(sender, "127.0.0.1", PORT, "flood-" + floodSent);
                    floodSent++;
                }
            } finally {
                flooding.set(false);
                watch.join(5_000);
            }
            double floodSeconds = (System.nanoTime() - floodStart) / 1e9;
            assertNull(watchFailure.get());
            waitFor(() -> kernel().queued() == 0, Duration.ofSeconds(10), () -> "queue drained: " + kernel());
            child.writeLine("PEAK");
            Map<String, Long> peak = values(child.awaitLine("PEAK ", Duration.ofSeconds(30)));
            QueueStats afterFlood = kernel();

            // Full delivery resumes: one packet at a time, each through before the next.
            long resumeStart = System.nanoTime();
            for (int i = 0; i < RESUME; i++) {
                String text = "resume-" + i;
                Udp.send(sender, "127.0.0.1", PORT, text);
                assertTrue(sink.awaitArrival(text, Duration.ofSeconds(5)), () -> text + " did not arrive after the flood: "
                        + kernel() + "\n" + child.transcriptText());
            }
            double resumeSeconds = (System.nanoTime() - resumeStart) / 1e9;
            QueueStats afterResume = kernel();

            child.writeLine("END");
            Map<String, Long> end = values(child.awaitLine("END ", Duration.ofSeconds(30)));
            assertEquals(0, child.awaitExit(Duration.ofSeconds(30)), child.transcriptText());
            assertTrue(KernelQueues.find(ns, QUEUE).isEmpty(), "unbound after the child ended");

            long floodDropped = afterFlood.queueDropped() - beforeFlood.queueDropped();
            long sent = WARMUP + floodSent + RESUME;
            String report = String.format("overload (DROP, ceiling %d, subscriber %d µs/packet): warm-up %d in %.1f s; "
                            + "flood %d sent in %.1f s (%.0f/s), %d delivered, %d dropped by the kernel, max queued %d "
                            + "(%d samples); resume %d in %.2f s; child memory KiB base %s, peak %s; end %s",
                    CEILING, SPIN_MICROS, WARMUP, warmupSeconds, floodSent, floodSeconds, floodSent / floodSeconds,
                    floodSent - floodDropped - afterFlood.userDropped(), floodDropped, maxQueued.get(), queueSamples.get(),
                    RESUME, resumeSeconds, base, peak, end);
            System.out.println(report);

            // 1. bounded queue and memory
            assertTrue(maxQueued.get() <= CEILING, "kernel queue above the ceiling: " + report);
            assertTrue(floodDropped > floodSent / 2, "the flood must overflow the queue, or this proves nothing: " + report);
            assertTrue(peak.get("rss") - base.get("rss") <= RSS_GROWTH_BOUND_KIB, "RSS (sampled) grew too much: " + report);
            assertTrue(peak.get("hwm") - base.get("rss") <= RSS_GROWTH_BOUND_KIB, "RSS (VmHWM) grew too much: " + report);
            assertTrue(peak.get("hwm") <= RSS_BOUND_KIB, "RSS above its bound: " + report);
            assertTrue(peak.get("nmtNonHeap") - base.get("nmtNonHeap") <= NMT_GROWTH_BOUND_KIB,
                    "native memory (NMT, outside the heap) grew too much: " + report);
            assertEquals(base.get("direct"), peak.get("direct"), "direct buffers allocated during the flood: " + report);
            assertTrue(end.get("heapAfterGc") - base.get("heap") <= 8 << 10, "heap after GC grew: " + report);

            // 2. accounting
            assertEquals(sent, end.get("received") + afterResume.queueDropped() + afterResume.userDropped(),
                    "every packet delivered or counted as dropped: " + report);
            assertEquals(end.get("received"), end.get("verdictsSent"), report);
            assertEquals(0, end.get("defaults"), report);
            assertEquals(0, end.get("kernelErrors"), report);
            assertEquals(0, end.get("receiveBufferDrops"), report);
            assertEquals(0, afterResume.userDropped(), "the socket buffer never overflowed: " + report);
            waitFor(() -> sink.total() >= end.get("received"), Duration.ofSeconds(5), () -> "arrived " + sink.total());
            assertEquals(end.get("received"), sink.total(), "every delivered packet arrived, once: " + report);
            Map<String, Integer> twice = sink.counts(t -> true);
            twice.values().removeIf(n -> n == 1);
            assertEquals(Map.of(), twice, "datagrams that arrived more than once");

            // 3. full delivery after the flood
            assertEquals(RESUME, end.get("resumed"), "each resume packet was delivered to the subscriber: " + report);
            assertEquals(RESUME, sink.counts(t -> t.startsWith("resume-")).size(), report);
            assertEquals(afterFlood.queueDropped(), afterResume.queueDropped(), "drops after the flood: " + report);
            assertEquals(afterFlood.userDropped(), afterResume.userDropped(), "drops after the flood: " + report);

            assertFalse(child.transcriptText().contains("in native method"), "JNI check warnings:\n" + child.transcriptText());
            assertFalse(child.transcriptText().contains("SAMPLER FAILED"), child.transcriptText());
            assertTrue(peak.get("samples") >= 20, "memory sampled during the flood: " + report);
            assertNull(sink.failure());
        }
    }

    private QueueStats kernel() {
        return QueueStats.find(ns.path(), QUEUE).orElseThrow(() -> new AssertionError("queue " + QUEUE + " not bound"));
    }

    /** "WORD k=v k=v ..." -> {k: v} for the numeric values. */
    private static Map<String, Long> values(String line) {
        Map<String, Long> m = new HashMap<>();
        for (String part : line.split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq > 0 && part.substring(eq + 1).matches("-?\\d+")) {
                m.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
            }
        }
        return m;
    }

    private static void waitFor(BooleanSupplier condition, Duration max,
                                Supplier<String> what) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(what.get() + ": not reached within " + max);
            }
            LockSupport.parkNanos(100_000);
        }
    }
}
