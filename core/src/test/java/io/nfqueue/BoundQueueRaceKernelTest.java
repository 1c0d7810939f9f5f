package io.nfqueue;

import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.RaceOutcome;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The races of {@code BoundQueueRaceTest} (fake transport), repeated on a real queue: the
 * kernel is the judge. Each round sends numbered datagrams; the program's verdicts (every third
 * packet dropped, the rest accepted) race the queue's own default verdict (ACCEPT here, so that
 * "the program's DROP won" and "the default won" lead to different arrivals). Whoever wins, each
 * packet must get exactly one verdict, and it must be the one the library says won:
 * <ul>
 *   <li>a packet whose program DROP won never reaches the sink; every other one arrives exactly
 *       once (a verdict lost at unbind would be dropped by the kernel, a batch accept covering a
 *       dropped packet would let it through);</li>
 *   <li>verdicts sent = packets received = program verdicts that won + default verdicts;</li>
 *   <li>the kernel refuses nothing (a second verdict for an id comes back ENOENT, counted in
 *       {@code kernelErrors}), and holds nothing afterwards.</li>
 * </ul>
 */
@KernelTest
@Timeout(120)
class BoundQueueRaceKernelTest {
    private static final int PORT = 9420;
    private static final int QUEUE = 42;
    private static final int VERDICT_THREADS = 3;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
    private final Random random = new Random(42);

    private QueueOptions options() {
        // A small copy range: each round binds anew and allocates its receive slots.
        return QueueOptions.queue(QUEUE).networkNamespace(ns.path()).copyRange(128).defaultVerdict(Verdict.accept());
    }

    /**
     * close() from one thread while three others give verdicts for the packets the program
     * holds, and while more packets wait unread in the socket: 60 rounds, each binding anew.
     */
    @Test
    void verdictsRacingCloseGiveEachPacketExactlyOneVerdict() throws Exception {
        int rounds = 60;
        int held = 24;
        int unread = 8;
        int programWins = 0;
        int closeWins = 0;
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT))) {
            for (int round = 0; round < rounds; round++) {
                String tag = "close-" + round + "-";
                BoundQueue queue = BoundQueue.open(options());
                List<Packet> packets = new ArrayList<>();
                try {
                    for (int i = 0; i < held; i++) {
                        Udp.send(sender, "127.0.0.1", PORT, tag + i);
                    }
                    receive(queue, packets, held, Duration.ofSeconds(5));
                    packets.sort((a, b) -> Integer.compare(index(a), index(b)));
                    // These reach the socket but the program never reads them: close must.
                    for (int i = held; i < held + unread; i++) {
                        Udp.send(sender, "127.0.0.1", PORT, tag + i);
                    }
                    RaceOutcome outcome = new RaceOutcome(held);
                    CountDownLatch go = new CountDownLatch(1);
                    List<Thread> threads = new ArrayList<>();
                    for (int t = 0; t < VERDICT_THREADS; t++) {
                        int first = t;
                        int spacing = random.nextInt(30);
                        threads.add(start("verdicts-" + t, () -> {
                            await(go);
                            for (int i = first; i < held; i += VERDICT_THREADS) {
                                outcome.give(packets.get(i), i);
                                spin(spacing);
                            }
                        }, outcome));
                    }
                    int closeAfter = random.nextInt(400);
                    go.countDown();
                    spin(closeAfter);
                    queue.close();
                    join(threads);
                    assertNull(outcome.failure(), () -> "round " + outcome.failure());

                    QueueCounters c = queue.counters();
                    String where = "round " + tag + " (close after " + closeAfter + " µs): " + c;
                    // The kernel's judgement first, then the library's own account.
                    assertEquals(List.of(), outcome.arrivalProblems(sink, tag, held + unread), where);
                    assertEquals(held + unread, c.received(), where);
                    assertEquals(held + unread, c.verdictsSent(), "one verdict sent per packet, " + where);
                    assertEquals(held + unread, outcome.programWins() + c.defaultVerdicts(DefaultVerdictCause.CLOSE), where);
                    assertEquals(c.totalDefaultVerdicts(), c.defaultVerdicts(DefaultVerdictCause.CLOSE), where);
                    assertEquals(outcome.losses(), outcome.lostTo(DefaultVerdictCause.CLOSE),
                            "every lost race was lost to close, " + where);
                    assertEquals(0, c.kernelErrors(), where);
                    assertEquals(0, c.sendFailures(), where);
                    assertEquals(0, c.unresolved(), where);
                    Optional<QueueStats> line = KernelQueues.find(ns, QUEUE);
                    assertTrue(line.isEmpty(), "unbound after close: " + line);
                    programWins += outcome.programWins();
                    closeWins += (int) c.defaultVerdicts(DefaultVerdictCause.CLOSE) - unread;
                } finally {
                    queue.close();
                }
            }
            assertNull(sink.failure());
            System.out.println("verdicts racing close: " + rounds + " rounds, program won " + programWins
                    + ", close won " + closeWins + " of the held packets");
            assertTrue(programWins > 0 && closeWins > 0, "both sides must win some races, or this raced nothing: program "
                    + programWins + ", close " + closeWins);
        }
    }

    /**
     * A verdict timeout of 20 ms and verdicts given 12..28 ms after each packet arrived, while
     * the receiving thread runs the expiry: 40 rounds on one binding, so every ENOENT the kernel
     * sends back for a second verdict is read and counted.
     */
    @Test
    void verdictTimeoutRacingLateVerdictsGivesExactlyOneVerdict() throws Exception {
        int rounds = 40;
        int perRound = 32;
        long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(20);
        int programWins = 0;
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT));
             BoundQueue queue = BoundQueue.open(options().verdictTimeout(Duration.ofNanos(timeoutNanos)))) {
            ConcurrentLinkedQueue<Packet> arriving = new ConcurrentLinkedQueue<>();
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicReference<Throwable> receiveFailure = new AtomicReference<>();
            // The receiving thread: reads, and runs the expiry (as NetfilterQueue.run does) as often as it can.
            Thread receiving = new Thread(() -> {
                try {
                    while (running.get()) {
                        int n = queue.receive(arriving::add, 64);
                        queue.expireOverdue();
                        if (n == 0) {
                            queue.awaitReadable(1);
                        }
                    }
                } catch (Throwable e) {
                    receiveFailure.set(e);
                }
            }, "receive-and-expire");
            receiving.start();
            try {
                for (int round = 0; round < rounds; round++) {
                    String tag = "timeout-" + round + "-";
                    for (int i = 0; i < perRound; i++) {
                        Udp.send(sender, "127.0.0.1", PORT, tag + i);
                    }
                    List<Packet> packets = new ArrayList<>();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (packets.size() < perRound && System.nanoTime() < deadline) {
                        Packet p = arriving.poll();
                        if (p == null) {
                            Thread.onSpinWait();
                        } else {
                            packets.add(p);
                        }
                    }
                    assertEquals(perRound, packets.size(), "packets of round " + round);
                    packets.sort((a, b) -> Integer.compare(index(a), index(b)));
                    RaceOutcome outcome = new RaceOutcome(perRound);
                    List<Thread> threads = new ArrayList<>();
                    for (int t = 0; t < VERDICT_THREADS; t++) {
                        int first = t;
                        long[] offsets = new long[perRound];
                        for (int i = 0; i < perRound; i++) {
                            offsets[i] = TimeUnit.MICROSECONDS.toNanos(12_000 + random.nextInt(16_000));
                        }
                        threads.add(start("late-verdicts-" + t, () -> {
                            for (int i = first; i < perRound; i += VERDICT_THREADS) {
                                Packet p = packets.get(i);
                                long at = p.receivedNanos() + offsets[i];
                                // Sleep most of the way (four spinning threads would starve each other
                                // on a small machine), spin the last stretch.
                                long left;
                                while ((left = at - System.nanoTime()) > 0) {
                                    if (left > 1_500_000) {
                                        LockSupport.parkNanos(left - 1_000_000);
                                    } else {
                                        Thread.onSpinWait();
                                    }
                                }
                                outcome.give(p, i);
                            }
                        }, outcome));
                    }
                    join(threads);
                    assertNull(outcome.failure(), () -> "round " + outcome.failure());
                    assertEquals(outcome.losses(), outcome.lostTo(DefaultVerdictCause.TIMEOUT), "lost races, round " + round);
                    assertEquals(List.of(), outcome.arrivalProblems(sink, tag, perRound), "round " + round + ": "
                            + queue.counters());
                    programWins += outcome.programWins();
                }
            } finally {
                running.set(false);
                receiving.join(5_000);
            }
            assertNull(receiveFailure.get(), () -> "receive thread: " + receiveFailure.get());
            // Kernel errors come back asynchronously: read what the kernel still sends.
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
            while (System.nanoTime() < until) {
                queue.receive(p -> {
                    throw new AssertionError("an extra packet: " + p);
                }, 64);
                queue.awaitReadable(10);
            }
            QueueCounters c = queue.counters();
            QueueStats s = KernelQueues.find(ns, QUEUE).orElseThrow();
            int total = rounds * perRound;
            long timeouts = c.defaultVerdicts(DefaultVerdictCause.TIMEOUT);
            System.out.println("verdict timeout racing late verdicts: " + rounds + " rounds, program won " + programWins
                    + ", timeout won " + timeouts + "; " + c + " / kernel " + s);
            assertEquals(0, c.kernelErrors(), "the kernel refused a verdict (a second one for an id?): " + c);
            assertEquals(total, c.received(), c.toString());
            assertEquals(total, c.verdictsSent(), c.toString());
            assertEquals(total, programWins + timeouts, c.toString());
            assertEquals(timeouts, c.totalDefaultVerdicts(), c.toString());
            assertEquals(0, c.sendFailures(), c.toString());
            assertEquals(0, c.unresolved(), c.toString());
            assertEquals(0, s.queued(), s.toString());
            assertEquals(0, s.queueDropped() + s.userDropped(), s.toString());
            assertTrue(programWins > 0 && timeouts > 0, "both sides must win some races, or this raced nothing");
            assertNull(sink.failure());
        }
    }

    private static int index(Packet p) {
        String text = UdpPackets.udpText(p.payloadBytes());
        return Integer.parseInt(text.substring(text.lastIndexOf('-') + 1));
    }

    private static void receive(BoundQueue queue, List<Packet> into, int count, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (into.size() < count && System.nanoTime() < deadline) {
            if (queue.receive(into::add, count - into.size()) == 0) {
                queue.awaitReadable(10);
            }
        }
        assertEquals(count, into.size(), "packets received before the race");
    }

    private static Thread start(String name, Runnable body, RaceOutcome outcome) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                outcome.fail(e);
            }
        }, name);
        t.start();
        return t;
    }

    private static void join(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            t.join(10_000);
            assertTrue(!t.isAlive(), t.getName() + " still running");
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("start signal never came");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Spins for about {@code micros} microseconds. */
    private static void spin(int micros) {
        long end = System.nanoTime() + micros * 1000L;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
