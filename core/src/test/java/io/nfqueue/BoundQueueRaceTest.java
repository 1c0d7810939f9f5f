package io.nfqueue;

import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exactly one verdict per packet while threads race: verdicts against close, verdicts from many
 * threads, the verdict timeout against verdicts, the send lock's hand-over. Each race is run
 * many times with a start barrier so the threads really meet; every wait is bounded.
 */
@Timeout(180)
class BoundQueueRaceTest {
    private static final int Q = 2;
    private static ExecutorService pool;

    @BeforeAll
    static void startPool() {
        pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "race-worker");
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    static void stopPool() {
        pool.shutdownNow();
    }

    private static List<Packet> receive(BoundQueue q, int limit) {
        List<Packet> got = new ArrayList<>();
        q.receive(got::add, limit);
        return got;
    }

    /** Runs the tasks together (released by one barrier) and waits for all, rethrowing the first failure. */
    private static void race(List<Callable<Void>> tasks) throws Exception {
        CyclicBarrier start = new CyclicBarrier(tasks.size());
        List<Future<Void>> futures = new ArrayList<>();
        for (Callable<Void> task : tasks) {
            futures.add(pool.submit(() -> {
                start.await(10, TimeUnit.SECONDS);
                return task.call();
            }));
        }
        for (Future<Void> f : futures) {
            f.get(20, TimeUnit.SECONDS);
        }
    }

    /** Verdicts packets of its share; counts the ones that won (the rest found them resolved by close or timeout). */
    private static Callable<Void> verdicter(List<Packet> packets, int share, int shares, AtomicInteger won) {
        return () -> {
            for (int i = share; i < packets.size(); i += shares) {
                try {
                    packets.get(i).accept();
                    won.incrementAndGet();
                } catch (IllegalStateException lost) {
                    // the packet already had its default verdict
                }
            }
            return null;
        };
    }

    @Test
    void verdictsRacingCloseSendExactlyOneVerdictPerPacket() throws Exception {
        for (int iteration = 0; iteration < 1000; iteration++) {
            FakeTransport fake = new FakeTransport();
            BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).copyRange(64).batchSize(64), fake);
            // The listener is told of every verdict, also of one whose thread is still between its
            // claim and the listener call when close() returns.
            AtomicInteger told = new AtomicInteger();
            q.onResolution((p, v, cause) -> told.incrementAndGet());
            fake.offerMany(1, 64, Q);
            List<Packet> packets = receive(q, 64);
            fake.offerMany(65, 8, Q); // unread: close must drain them
            AtomicInteger won = new AtomicInteger();
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                tasks.add(verdicter(packets, t, 4, won));
            }
            tasks.add(() -> {
                q.close();
                return null;
            });
            race(tasks);
            String where = "iteration " + iteration;
            assertEquals("", fake.exactlyOnceProblems(), where);
            assertEquals(List.of(), fake.violations(), where);
            assertEquals(Set.of(), fake.heldAtClose(), where);
            assertEquals(72, won.get() + q.counters().defaultVerdicts(DefaultVerdictCause.CLOSE), where);
            assertEquals(72, told.get(), where + ": verdicts the listener was told of");
        }
    }

    @Test
    void eightThreadsVerdictTenThousandPacketsEachExactlyOnce() throws Exception {
        for (int round = 0; round < 5; round++) {
            int total = 10_000;
            FakeTransport fake = new FakeTransport();
            BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).copyRange(64).batchSize(64), fake);
            BlockingQueue<Packet> handOff = new LinkedBlockingQueue<>();
            AtomicInteger verdicted = new AtomicInteger();
            List<Callable<Void>> tasks = new ArrayList<>();
            // The kernel side: packets arrive in bursts while the rest runs.
            tasks.add(() -> {
                for (int id = 1; id <= total; id += 100) {
                    fake.offerMany(id, 100, Q);
                    Thread.yield();
                }
                return null;
            });
            // The receiving thread: resolves every third packet itself, inside the consumer.
            tasks.add(() -> {
                int received = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                while (received < total && System.nanoTime() < deadline) {
                    int n = q.receive(p -> {
                        if (p.id() % 3 == 0) {
                            p.accept();
                            verdicted.incrementAndGet();
                        } else {
                            handOff.add(p);
                        }
                    }, 64);
                    received += n;
                    if (n == 0) {
                        q.awaitReadable(5);
                    }
                }
                return null;
            });
            for (int t = 0; t < 8; t++) {
                tasks.add(() -> {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                    while (verdicted.get() < total && System.nanoTime() < deadline) {
                        Packet p = handOff.poll(5, TimeUnit.MILLISECONDS);
                        if (p != null) {
                            if (p.id() % 2 == 0) {
                                p.drop();
                            } else {
                                p.verdict(Verdict.accept().withMark(p.id()));
                            }
                            verdicted.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            race(tasks);
            String where = "round " + round;
            assertEquals(total, verdicted.get(), where);
            // Every verdict was sent by the time the verdicting threads returned: none stranded.
            assertEquals(total, fake.verdictsApplied(), where);
            assertEquals("", fake.exactlyOnceProblems(), where);
            assertEquals(total, q.counters().verdictsSent(), where);
            assertEquals(0, q.unresolvedCount(), where);
            q.close();
            assertEquals(List.of(), fake.violations(), where);
            assertEquals(total, fake.verdictsApplied(), "close had nothing left to resolve; " + where);
        }
    }

    @Test
    void verdictTimeoutRacingVerdictsGivesExactlyOneVerdict() throws Exception {
        for (int iteration = 0; iteration < 1000; iteration++) {
            FakeTransport fake = new FakeTransport();
            BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).copyRange(64).verdictTimeout(Duration.ofMillis(1)), fake);
            fake.offerMany(1, 32, Q);
            List<Packet> packets = receive(q, 32);
            long overdue = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2);
            while (System.nanoTime() < overdue) {
                Thread.onSpinWait();
            }
            AtomicInteger won = new AtomicInteger();
            AtomicInteger expired = new AtomicInteger();
            List<Callable<Void>> tasks = new ArrayList<>();
            tasks.add(verdicter(packets, 0, 2, won));
            tasks.add(verdicter(packets, 1, 2, won));
            tasks.add(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (q.unresolvedCount() > 0 && System.nanoTime() < deadline) {
                    expired.addAndGet(q.expireOverdue());
                }
                return null;
            });
            race(tasks);
            String where = "iteration " + iteration;
            assertEquals(32, won.get() + expired.get(), where);
            assertEquals(expired.get(), q.counters().defaultVerdicts(DefaultVerdictCause.TIMEOUT), where);
            assertEquals(32, fake.verdictsApplied(), where);
            assertEquals("", fake.exactlyOnceProblems(), where);
            q.close();
            assertEquals(32, fake.verdictsApplied(), "nothing left for close; " + where);
            assertEquals(List.of(), fake.violations(), where);
        }
    }

    /** The realistic shape: a receive loop, workers verdicting, a timeout watchdog, and close arriving mid-stream. */
    @Test
    void receiveLoopWorkersExpiryAndCloseTogether() throws Exception {
        for (int iteration = 0; iteration < 300; iteration++) {
            FakeTransport fake = new FakeTransport();
            BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).copyRange(64).batchSize(16).verdictTimeout(Duration.ofMillis(1)),
                    fake);
            fake.offerMany(1, 200, Q);
            BlockingQueue<Packet> handOff = new LinkedBlockingQueue<>();
            CountDownLatch someReceived = new CountDownLatch(50);
            List<Callable<Void>> tasks = new ArrayList<>();
            tasks.add(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (System.nanoTime() < deadline) {
                    int n;
                    try {
                        n = q.receive(p -> {
                            handOff.add(p);
                            someReceived.countDown();
                        }, 16);
                    } catch (IllegalStateException e) {
                        continue; // a packet resolved by close while handed out: not ours to fail on
                    }
                    if (n < 0) {
                        return null;
                    }
                    q.expireOverdue();
                }
                throw new AssertionError("receive never returned -1 after close");
            });
            for (int t = 0; t < 3; t++) {
                tasks.add(() -> {
                    while (!q.isClosed() || !handOff.isEmpty()) {
                        Packet p = handOff.poll(1, TimeUnit.MILLISECONDS);
                        if (p != null) {
                            try {
                                p.accept();
                            } catch (IllegalStateException lost) {
                                // resolved by close or timeout first
                            }
                        }
                    }
                    return null;
                });
            }
            tasks.add(() -> {
                someReceived.await(5, TimeUnit.SECONDS);
                q.close();
                return null;
            });
            race(tasks);
            String where = "iteration " + iteration;
            assertEquals("", fake.exactlyOnceProblems(), where);
            assertEquals(Set.of(), fake.heldAtClose(), where);
            assertEquals(List.of(), fake.violations(), where);
        }
    }

    /**
     * The send lock is taken with tryLock: a verdict whose thread finds another thread sending
     * must still go out, sent by that thread after it unlocks, with no later flush call.
     */
    @Test
    void verdictGivenWhileAnotherThreadSendsIsSentByThatThread() throws Exception {
        FakeTransport fake = new FakeTransport();
        BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).copyRange(64), fake);
        fake.offerMany(1, 2, Q);
        List<Packet> packets = receive(q, 8);
        CountDownLatch inSend = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger sends = new AtomicInteger();
        fake.onSend(n -> {
            if (sends.getAndIncrement() == 0) {
                inSend.countDown();
                BoundQueueCloseTest.await(release);
            }
        });
        Future<?> first = pool.submit(() -> packets.get(0).accept());
        assertTrue(inSend.await(5, TimeUnit.SECONDS));
        long t0 = System.nanoTime();
        packets.get(1).accept(); // finds the send side busy
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "the verdict did not wait for the sender");
        release.countDown();
        first.get(5, TimeUnit.SECONDS);
        assertEquals(2, fake.verdictsApplied(), "the busy sender sent the second verdict before returning");
        assertEquals("", fake.exactlyOnceProblems());
        q.close();
        assertEquals(List.of(), fake.violations());
    }

    /** Many threads flushing through a slow send: when they have all returned, nothing is left unsent. */
    @Test
    void noVerdictIsStrandedBehindTheSendLock() throws Exception {
        for (int iteration = 0; iteration < 500; iteration++) {
            FakeTransport fake = new FakeTransport().onSend(n -> Thread.yield());
            BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).copyRange(64).batchSize(64), fake);
            fake.offerMany(1, 64, Q);
            List<Packet> packets = receive(q, 64);
            AtomicInteger won = new AtomicInteger();
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                tasks.add(verdicter(packets, t, 6, won));
            }
            race(tasks);
            String where = "iteration " + iteration;
            assertEquals(64, won.get(), where);
            assertEquals(64, fake.verdictsApplied(), "sent by the time every verdicting thread returned; " + where);
            assertEquals("", fake.exactlyOnceProblems(), where);
            q.close();
            assertEquals(List.of(), fake.violations(), where);
        }
    }
}
