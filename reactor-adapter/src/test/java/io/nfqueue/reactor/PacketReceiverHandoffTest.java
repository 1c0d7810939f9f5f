package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ReceiverOptions#handoff}: packets are read and emitted on the scheduler's thread, one
 * task per burst of batches (never one per packet), with no read beyond demand.
 */
@Timeout(60)
class PacketReceiverHandoffTest {
    private static final int Q = 9;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final FakeQueues fakes = new FakeQueues();
    private final CountingScheduler scheduler = new CountingScheduler("handoff");

    @AfterEach
    void tearDown() {
        scheduler.dispose();
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    /** Keeps the scheduler's one thread busy until the returned latch is released (at most 10 s). */
    private CountDownLatch keepTheSchedulerBusy() {
        CountDownLatch release = new CountDownLatch(1);
        scheduler.delegate().schedule(() -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return release;
    }

    /**
     * Waits (bounded) until the scheduler's one thread has finished what it was given: a marker
     * task queued behind it runs only then. Not counted as a task.
     */
    private void awaitTheWorkerIdle() {
        CountDownLatch idle = new CountDownLatch(1);
        scheduler.delegate().schedule(idle::countDown);
        try {
            assertTrue(idle.await(5, TimeUnit.SECONDS), "the worker's turn ended");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Test
    void emitsOnTheSchedulersThreadOneTaskPerBatchInOrder() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 96, Q); // three receive batches of 32
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).handoff(scheduler));
        Set<String> threads = ConcurrentHashMap.newKeySet();
        List<Integer> ids = new CopyOnWriteArrayList<>();

        Disposable running = receiver.receive().subscribe(p -> {
            threads.add(Thread.currentThread().getName());
            ids.add(p.id());
            p.accept();
        });
        try {
            assertTrue(fake.awaitVerdicts(96, VERIFY), "verdicts: " + fake.verdictsApplied());
        } finally {
            running.dispose();
        }
        assertTrue(threads.stream().allMatch(t -> t.startsWith("handoff")), "emitted on: " + threads);
        assertTrue(scheduler.tasks() <= 3, scheduler.tasks() + " tasks for 96 packets in 3 batches");
        List<Integer> expected = new ArrayList<>();
        for (int i = 1; i <= 96; i++) {
            expected.add(i);
        }
        assertEquals(expected, ids, "order kept across batches");
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /** A long burst does not keep the worker from its scheduler's other tasks: it yields and goes on. */
    @Test
    void aLongBurstYieldsTheWorkerAndKeepsOrder() {
        int count = 64 * 32 * 2 + 10; // more than two worker turns of 64 full batches
        FakeTransport fake = fakes.next(Q).offerMany(1, count, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).handoff(scheduler));
        List<Integer> ids = new CopyOnWriteArrayList<>();
        Disposable running = receiver.receive().subscribe(p -> {
            ids.add(p.id());
            p.accept();
        });
        try {
            assertTrue(fake.awaitVerdicts(count, VERIFY), "verdicts: " + fake.verdictsApplied());
        } finally {
            running.dispose();
        }
        assertTrue(scheduler.tasks() >= 3, "the worker yielded: " + scheduler.tasks() + " tasks");
        for (int i = 0; i < count; i++) {
            assertEquals(i + 1, ids.get(i), "order kept across turns");
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /**
     * A disposed scheduler drops the queued hand-over without running it: the subscription must
     * end with an error and resolve every packet, not stop reading in silence.
     */
    @Test
    void disposingTheSchedulerEndsTheSubscriptionWithAnError() throws Exception {
        FakeTransport fake = fakes.next(Q).offerMany(1, 10, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).handoff(scheduler));
        CountDownLatch release = keepTheSchedulerBusy();
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(1);
        receiver.receive().subscribe(Packet::accept, e -> {
            error.set(e);
            ended.countDown();
        });
        Await.until(() -> scheduler.tasks() == 1, () -> "the reading was handed to the worker");
        scheduler.dispose();
        release.countDown();

        assertTrue(ended.await(5, TimeUnit.SECONDS), "the subscription ended");
        assertTrue(error.get() instanceof RejectedExecutionException, "error: " + error.get());
        assertEquals(10, receiver.counters().get(0).totalDefaultVerdicts());
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /** A scheduler that runs tasks inline: a long burst is read in turns, without recursion. */
    @Test
    void anInlineSchedulerReadsALongBurstWithoutRecursing() {
        int count = 64 * 32 * 100; // 100 worker turns: a few stack frames per turn would show
        FakeTransport fake = fakes.next(Q).offerMany(1, count, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).handoff(Schedulers.immediate()));
        AtomicInteger deepest = new AtomicInteger();
        Disposable running = receiver.receive().subscribe(p -> {
            deepest.accumulateAndGet(new Throwable().getStackTrace().length, Math::max);
            p.accept();
        });
        try {
            assertTrue(fake.awaitVerdicts(count, VERIFY), "verdicts: " + fake.verdictsApplied());
        } finally {
            running.dispose();
        }
        assertTrue(deepest.get() < 300, "stack depth in the subscriber: " + deepest.get());
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void handoffReadsNoMoreThanRequested() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 40, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).handoff(scheduler));

        StepVerifier.create(receiver.receive().doOnNext(Packet::accept), 5)
                .expectNextCount(5)
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> assertEquals(5, fake.recordsDelivered(), "no prefetch for the hand-off"))
                // The worker's first turn must be over, or request(7) would extend it (one task).
                .then(this::awaitTheWorkerIdle)
                .thenRequest(7)
                .expectNextCount(7)
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> assertEquals(12, fake.recordsDelivered()))
                .thenCancel()
                .verify(VERIFY);
        assertEquals(2, scheduler.tasks(), "one task per request that found packets");
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /**
     * The worker is busy elsewhere when packets come: nothing is read for it meanwhile (they wait
     * in the socket), and a cancel then gives every one of them the default verdict.
     */
    @Test
    void cancelWhileTheWorkerIsBusyResolvesWhatWaits() throws Exception {
        FakeTransport fake = fakes.next(Q).offerMany(1, 10, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).handoff(scheduler));
        CountDownLatch release = keepTheSchedulerBusy();
        List<Packet> delivered = new CopyOnWriteArrayList<>();
        Disposable running = receiver.receive().subscribe(delivered::add);
        Await.until(() -> scheduler.tasks() == 1, () -> "the reading was handed to the worker");
        Await.quiet();
        assertEquals(0, fake.recordsDelivered(), "nothing read while the worker cannot emit it");
        running.dispose();
        release.countDown();
        Await.quiet();

        assertEquals(List.of(), delivered, "nothing is emitted after cancel");
        assertEquals(10, receiver.counters().get(0).totalDefaultVerdicts());
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /**
     * A subscriber blocked on the worker stalls the reading but not the watchdog: the receive
     * thread still gives overdue packets the default verdict.
     */
    @Test
    void aBlockedSubscriberOnTheWorkerStillHasItsPacketsTimedOut() throws Exception {
        FakeTransport fake = fakes.next(Q).offerMany(1, 5, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).handoff(scheduler)
                .verdictTimeout(Duration.ofMillis(100)));
        CountDownLatch release = new CountDownLatch(1);
        Disposable running = receiver.receive().subscribe(p -> {
            try {
                release.await(10, TimeUnit.SECONDS); // holds the first packet and the worker
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertTrue(fake.awaitVerdicts(5, VERIFY), "verdicts: " + fake.verdictsApplied());
            assertEquals(5, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.TIMEOUT));
        } finally {
            release.countDown();
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }
}
