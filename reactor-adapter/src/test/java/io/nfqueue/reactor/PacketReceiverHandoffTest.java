package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.testing.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ReceiverOptions#handoff}: packets are emitted on the scheduler's thread, one task per
 * receive batch (never one per packet), with no read beyond demand.
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

    @Test
    void handoffReadsNoMoreThanRequested() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 40, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).handoff(scheduler));

        StepVerifier.create(receiver.receive().doOnNext(Packet::accept), 5)
                .expectNextCount(5)
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> assertEquals(5, fake.recordsDelivered(), "no prefetch for the hand-off"))
                .thenRequest(7)
                .expectNextCount(7)
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> assertEquals(12, fake.recordsDelivered()))
                .thenCancel()
                .verify(VERIFY);
        assertTrue(scheduler.tasks() <= 2 + 1, "one task per read: " + scheduler.tasks());
        assertEquals("", fakes.exactlyOnceProblems());
    }

    /** Packets read but still waiting for the scheduler when the subscriber cancels get the default. */
    @Test
    void cancelWhileABatchWaitsForTheSchedulerResolvesIt() throws Exception {
        FakeTransport fake = fakes.next(Q).offerMany(1, 10, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q).handoff(scheduler));
        CountDownLatch release = new CountDownLatch(1);
        scheduler.delegate().schedule(() -> {
            try {
                release.await(10, TimeUnit.SECONDS); // keeps the one hand-off thread busy
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<Packet> delivered = new CopyOnWriteArrayList<>();
        Disposable running = receiver.receive().subscribe(delivered::add);
        Await.until(() -> fake.recordsDelivered() == 10, () -> "the batch was read and handed over");
        running.dispose();
        release.countDown();
        Await.quiet();

        assertEquals(List.of(), delivered, "nothing is emitted after cancel");
        assertEquals(10, receiver.counters().get(0).defaultVerdicts(DefaultVerdictCause.CANCEL));
        assertEquals("", fakes.exactlyOnceProblems());
    }
}
