package io.nfqueue;

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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where merging plain accepts into one NFQNL_MSG_VERDICT_BATCH (which the kernel applies to
 * every held id up to its own) would change what happens: a packet below the run still waiting,
 * marks inside the run, and verdicts from the receiving thread and another thread at once.
 * Each test checks the outcome per packet at the receiving socket.
 */
@KernelTest
@Timeout(90)
class VerdictBatchKernelTest {
    private static final int PORT = 9970;
    private static final int QUEUE = 23;
    private NetNamespace ns;
    private ExecutorService other;

    @BeforeEach
    void setUp() {
        ns = NetNamespace.create();
        ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
        other = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        other.shutdownNow();
        other.awaitTermination(5, TimeUnit.SECONDS);
        ns.close();
    }

    @Test
    void aRunOfAcceptsDoesNotCoverTheOldestPacketStillWaiting() throws Exception {
        keepOneAcceptTheRest(0);
    }

    @Test
    void aRunOfAcceptsBelowTheNewestPacketStillWaiting() throws Exception {
        keepOneAcceptTheRest(9);
    }

    @Test
    void aRunOfAcceptsAroundAPacketStillWaiting() throws Exception {
        keepOneAcceptTheRest(4);
    }

    /**
     * Ten packets read in one batch; the handler accepts all but number {@code kept}, so the
     * nine accepts leave in one send at the batch's end (where a batch verdict may carry them);
     * the kept one must still be held by the kernel, and after its DROP it must not arrive.
     */
    private void keepOneAcceptTheRest(int kept) throws Exception {
        int n = 10;
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            sendAndWaitQueued(queue, sender, "p", n);
            List<Packet> keptPacket = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            int handled = QueuePolling.handle(queue, p -> {
                String text = UdpPackets.udpText(p.payloadBytes());
                if (text.equals("p" + kept)) {
                    keptPacket.add(p);
                } else {
                    expected.add(text);
                    p.accept();
                }
            }, n, Duration.ofSeconds(5));
            assertEquals(n, handled);
            assertEquals(1, keptPacket.size());
            assertTrue(Await.until(() -> queue.stats().queued() == 1, Duration.ofSeconds(5)),
                    "the kernel should hold only p" + kept + ": " + queue.stats());
            // Give the kept packet's verdict from another thread.
            other.submit(() -> keptPacket.get(0).drop()).get(5, TimeUnit.SECONDS);
            List<String> got = new ArrayList<>(Udp.receive(sink, n, Duration.ofSeconds(1), Duration.ofSeconds(5))
                    .stream().map(Udp::text).toList());
            Collections.sort(got);
            Collections.sort(expected);
            assertEquals(expected, got, "p" + kept + " was dropped; no batch accept may have taken it");
            assertTrue(Await.until(() -> queue.stats().queued() == 0, Duration.ofSeconds(5)));
            assertEquals(0, queue.poll(p -> { }, Duration.ofMillis(100)));
            assertEquals(0, queue.counters().kernelErrors(), queue.counters().toString());
        }
    }

    @Test
    void marksInsideARunOfAcceptsAreKept() throws Exception {
        // Packets accepted with mark 5 are dropped after the queue, at POSTROUTING.
        ns.iptables("-t mangle -A POSTROUTING -p udp --dport " + PORT + " -m mark --mark 5 -j DROP");
        int n = 30;
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            sendAndWaitQueued(queue, sender, "m", n);
            List<String> expected = new ArrayList<>();
            // In the handler: the verdicts of the whole read batch leave together at its end.
            int handled = QueuePolling.handle(queue, p -> {
                String text = UdpPackets.udpText(p.payloadBytes());
                int i = Integer.parseInt(text.substring(1));
                if (i % 3 == 1) {
                    p.verdict(Verdict.accept().withMark(5));
                } else {
                    expected.add(text);
                    p.accept();
                }
            }, n, Duration.ofSeconds(5));
            assertEquals(n, handled);
            List<String> got = new ArrayList<>(Udp.receive(sink, n, Duration.ofSeconds(1), Duration.ofSeconds(5))
                    .stream().map(Udp::text).toList());
            Collections.sort(got);
            Collections.sort(expected);
            assertEquals(expected, got, "marked packets must carry their mark (and be dropped), the others not");
            assertEquals(0, queue.stats().queued());
        }
    }

    /** Sends {@code n} datagrams and waits until the kernel holds them all, so one receive reads them together. */
    private void sendAndWaitQueued(NetfilterQueue queue, DatagramChannel sender, String prefix, int n) {
        for (int i = 0; i < n; i++) {
            Udp.send(sender, "127.0.0.1", PORT, prefix + i);
        }
        assertTrue(Await.until(() -> queue.stats().queued() == n, Duration.ofSeconds(5)), queue.stats().toString());
    }

    @Test
    void handlerAndAnotherThreadGiveVerdictsAtOnce() throws Exception {
        // The handler accepts odd packets itself and passes even ones to another thread, which
        // drops them while the handler goes on: both send verdicts at the same time.
        int n = 600;
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            List<String> expected = new ArrayList<>();
            for (int i = 1; i < n; i += 2) {
                expected.add("c" + i);
            }
            Future<List<byte[]>> arrived = CompletableFuture.supplyAsync(
                    () -> Udp.receive(sink, expected.size(), Duration.ofSeconds(5), Duration.ofSeconds(40)),
                    Async.THREAD_PER_TASK);
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < n; i++) {
                    Udp.send(sender, "127.0.0.1", PORT, "c" + i);
                }
            }, Async.THREAD_PER_TASK);
            int handled = QueuePolling.handle(queue, p -> {
                int i = Integer.parseInt(UdpPackets.udpText(p.payloadBytes()).substring(1));
                if (i % 2 == 1) {
                    p.accept();
                } else {
                    other.execute(p::drop);
                }
            }, n, Duration.ofSeconds(30));
            sending.get(10, TimeUnit.SECONDS);
            assertEquals(n, handled);

            List<String> got = new ArrayList<>();
            arrived.get(60, TimeUnit.SECONDS).forEach(d -> got.add(Udp.text(d)));
            Udp.receive(sink, n, Duration.ofMillis(300), Duration.ofSeconds(2)).forEach(d -> got.add(Udp.text(d)));
            Collections.sort(got);
            Collections.sort(expected);
            assertEquals(expected, got, "odd ones arrive once each, even ones never");
            assertTrue(Await.until(() -> queue.stats().queued() == 0, Duration.ofSeconds(5)), queue.stats().toString());
            assertEquals(0, queue.poll(p -> { }, Duration.ofMillis(100)));
            QueueCounters c = queue.counters();
            assertEquals(n, c.verdictsSent(), c.toString());
            assertEquals(0, c.kernelErrors(), c.toString());
        }
    }
}
