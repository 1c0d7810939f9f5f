package io.nfqueue;

import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.Async;
import io.nfqueue.testing.Await;
import io.nfqueue.testing.QueuePolling;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing and interrupting. {@code close()} gives every packet still unresolved the default
 * verdict before it unbinds, so the kernel is left holding nothing; the held packets' fate is
 * then the default verdict's (the kernel would drop them all at unbind otherwise, and the rule's
 * {@code --queue-bypass} does nothing for packets already queued). The number can be bound
 * again at once, and a late verdict on an old packet cannot reach the new binding.
 */
@KernelTest
@Timeout(60)
class NetfilterQueueLifecycleKernelTest {
    private static final int PORT = 9950;
    private static final int QUEUE = 21;
    private static final int HELD = 5;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE + " --queue-bypass");

    @Test
    void closeGivesHeldPacketsTheDefaultAcceptAndUnbinds() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).defaultVerdict(Verdict.accept())
                    .networkNamespace(ns.path()));
            List<Packet> held;
            try {
                held = sendAndHold(queue, sender, "held-");
            } finally {
                queue.close();
            }
            assertTrue(KernelQueues.find(ns, QUEUE).isEmpty(), "still bound after close: " + KernelQueues.all(ns));
            assertEquals(HELD, queue.counters().defaultVerdicts(DefaultVerdictCause.CLOSE), queue.counters().toString());
            List<String> got = Udp.receive(sink, HELD + 1, Duration.ofSeconds(1), Duration.ofSeconds(5)).stream()
                    .map(Udp::text).sorted().toList();
            assertEquals(List.of("held-0", "held-1", "held-2", "held-3", "held-4"), got,
                    "close() must accept what it held (default ACCEPT)");
            for (Packet p : held) {
                assertTrue(p.isResolved());
            }
            assertThrows(IllegalStateException.class, queue::stats, "stats of a closed queue");

            // The number binds again at once, and an old packet's late verdict cannot reach it:
            // the kernel restarts ids at 1, so old and new ids collide.
            try (NetfilterQueue again = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
                Udp.send(sender, "127.0.0.1", PORT, "second-binding");
                List<Packet> fresh = QueuePolling.collect(again, 1, Duration.ofSeconds(5));
                assertEquals(1, fresh.size());
                Packet old = held.stream().filter(p -> p.id() == fresh.get(0).id()).findFirst()
                        .orElseThrow(() -> new AssertionError("expected the new binding to reuse an old id (ids restart at 1): "
                                + fresh.get(0) + " vs " + held));
                assertThrows(IllegalStateException.class, old::drop, "a late verdict from the old binding");
                assertEquals(1, again.stats().queued(), "the new packet still waits for its own verdict");
                fresh.get(0).accept();
                assertEquals("second-binding", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
                assertTrue(Await.until(() -> again.stats().queued() == 0, Duration.ofSeconds(5)));
            }
        }
    }

    @Test
    void closeGivesHeldPacketsTheDefaultDrop() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()));
            try {
                sendAndHold(queue, sender, "dropped-");
            } finally {
                queue.close();
            }
            assertTrue(KernelQueues.find(ns, QUEUE).isEmpty());
            assertEquals(List.of(), Udp.receive(sink, 1, Duration.ofMillis(500), Duration.ofSeconds(2)));
            // Unbound now: the rule's bypass lets new packets through.
            Udp.send(sender, "127.0.0.1", PORT, "bypassed");
            assertEquals("bypassed", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
        }
    }

    @Test
    void closeAlsoResolvesPacketsNotYetRead() throws Exception {
        // Packets the kernel already delivered to the socket, which the program never received.
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).defaultVerdict(Verdict.accept())
                    .networkNamespace(ns.path()));
            try {
                for (int i = 0; i < HELD; i++) {
                    Udp.send(sender, "127.0.0.1", PORT, "unread-" + i);
                }
                assertTrue(Await.until(() -> queue.stats().queued() == HELD, Duration.ofSeconds(5)),
                        queue.stats().toString());
                assertEquals(0, queue.counters().received());
            } finally {
                queue.close();
            }
            List<String> got = Udp.receive(sink, HELD + 1, Duration.ofSeconds(1), Duration.ofSeconds(5)).stream()
                    .map(Udp::text).sorted().toList();
            assertEquals(List.of("unread-0", "unread-1", "unread-2", "unread-3", "unread-4"), got);
        }
    }

    @Test
    void interruptingRunReturnsPromptlyWithTheFlagSet() throws Exception {
        try (NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            CountDownLatch started = new CountDownLatch(1);
            AtomicBoolean flagAfterRun = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread runner = new Thread(() -> {
                started.countDown();
                try {
                    queue.run(Packet::accept);
                } catch (Throwable t) {
                    failure.set(t);
                }
                flagAfterRun.set(Thread.currentThread().isInterrupted());
            }, "run-to-interrupt");
            runner.start();
            assertTrue(started.await(5, TimeUnit.SECONDS));
            // Let run() get into its wait (bounded): it must be blocked, not finished.
            runner.join(200);
            assertTrue(runner.isAlive(), "run() ended without a reason");

            long t0 = System.nanoTime();
            runner.interrupt();
            // Wide: run() returns within a wait slice, but a pause (GC, a loaded machine) must not
            // fail this; a run() that ignores the interrupt never returns.
            runner.join(5000);
            long tookMillis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(!runner.isAlive(), "run() still running 5 s after the interrupt");
            assertNull(failure.get(), "run() should return, not throw");
            assertTrue(flagAfterRun.get(), "the interrupt flag must still be set when run() returns");
            System.out.println("run() returned " + tookMillis + " ms after the interrupt");
            // The queue is still bound and usable after the interrupt.
            assertEquals(QUEUE, queue.stats().queueNumber());
        }
    }

    @Test
    void closeFromAnotherThreadEndsRun() throws Exception {
        NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()));
        try {
            CompletableFuture<Void> running = CompletableFuture.runAsync(() -> queue.run(Packet::accept),
                    Async.THREAD_PER_TASK);
            assertThrows(TimeoutException.class, () -> running.get(200, TimeUnit.MILLISECONDS));
            long t0 = System.nanoTime();
            queue.close();
            running.get(5, TimeUnit.SECONDS); // wide, as above
            System.out.println("run() returned " + (System.nanoTime() - t0) / 1_000_000 + " ms after close()");
        } finally {
            queue.close();
        }
        assertTrue(KernelQueues.find(ns, QUEUE).isEmpty());
    }

    @Test
    void closeFromTheHandlerEndsRunAndResolvesTheRestOfTheBatch() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()));
            try {
                for (int i = 0; i < HELD; i++) {
                    Udp.send(sender, "127.0.0.1", PORT, "batch-" + i);
                }
                assertTrue(Await.until(() -> queue.stats().queued() == HELD, Duration.ofSeconds(5)));
                // The first packet is accepted, then the handler closes the queue; the other
                // four, read in the same batch, get the default DROP.
                CompletableFuture<Void> running = CompletableFuture.runAsync(() -> queue.run(p -> {
                    p.accept();
                    queue.close();
                }), Async.THREAD_PER_TASK);
                running.get(5, TimeUnit.SECONDS);
            } finally {
                queue.close();
            }
            assertTrue(KernelQueues.find(ns, QUEUE).isEmpty());
            assertEquals(List.of("batch-0"), Udp.receive(sink, HELD, Duration.ofSeconds(1), Duration.ofSeconds(5))
                    .stream().map(Udp::text).toList());
            QueueCounters c = queue.counters();
            assertEquals(HELD, c.received(), c.toString());
            assertEquals(HELD - 1, c.defaultVerdicts(DefaultVerdictCause.CLOSE), c.toString());
        }
    }

    @Test
    void openAndCloseReleaseEveryFileDescriptor() throws Exception {
        // Warm up: the native library, the namespace helpers and the JIT open what they keep.
        NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())).close();
        long before = openFileDescriptors();
        for (int i = 0; i < 100; i++) {
            NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())).close();
        }
        // Failed binds must not leak either.
        try (NetfilterQueue owner = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            for (int i = 0; i < 50; i++) {
                assertThrows(QueueAlreadyBoundException.class,
                        () -> NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())).close());
            }
        }
        long after = openFileDescriptors();
        assertTrue(after - before < 5, "file descriptors grew from " + before + " to " + after);
    }

    private static long openFileDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** Sends HELD datagrams and receives them without verdicts; checks the kernel holds them all. */
    private List<Packet> sendAndHold(NetfilterQueue queue, DatagramChannel sender, String prefix) {
        for (int i = 0; i < HELD; i++) {
            Udp.send(sender, "127.0.0.1", PORT, prefix + i);
        }
        List<Packet> held = QueuePolling.collect(queue, HELD, Duration.ofSeconds(5));
        assertEquals(HELD, held.size());
        for (Packet p : held) {
            assertTrue(UdpPackets.udpText(p.payloadBytes()).startsWith(prefix));
        }
        assertEquals(HELD, KernelQueues.find(ns, QUEUE).orElseThrow().queued(), "the kernel holds them");
        return held;
    }
}
