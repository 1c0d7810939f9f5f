package io.nfqueue.reactor.internal;

import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.internal.access.TransportBinding;
import io.nfqueue.internal.fake.FakeTransport;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.reactor.TestReceivers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the readers of a queue range share one subscription's demand, over fake transports. */
@Timeout(60)
class ReceiverSubscriptionTest {
    private static final int EMPTY = 611;
    private static final int BUSY = 612;
    /**
     * Demand 1 over two queues: the reader of the empty queue claims it and, while it reads
     * nothing, the other reader finds no demand and parks, its packet waiting. When the unit comes
     * back, that reader must be woken: the slice is 10 s here, so only a wake-up delivers the
     * packet within 5 s (with 50 ms slices the missing wake-up cost up to 50 ms per packet).
     */
    @Test
    void demandGivenBackWakesTheReaderThatFoundNone() throws Exception {
        FakeTransport empty = new FakeTransport();
        FakeTransport busy = new FakeTransport();
        CountDownLatch emptyReads = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        empty.onReceive(() -> {
            if (first.getAndSet(false)) {
                emptyReads.countDown(); // holding the one unit of demand
                await(release);
            }
        });
        PacketReceiver receiver = TestReceivers.create(ReceiverOptions.queues(EMPTY, BUSY),
                (QueueOptions o) -> TransportBinding.open(o, o.queueNumber() == EMPTY ? empty : busy),
                Timings.DEFAULT.withSliceMillis(10_000));
        BlockingQueue<Packet> got = new LinkedBlockingQueue<>();
        BaseSubscriber<Packet> subscriber = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
                // no demand yet
            }

            @Override
            protected void hookOnNext(Packet p) {
                p.accept();
                got.add(p);
            }
        };
        receiver.receive().subscribe(subscriber);
        try {
            // Before the packet exists, so whichever reader wins the unit first, the empty
            // queue's reader ends up holding it (the busy one reads nothing and lets it go).
            subscriber.request(1);
            assertTrue(emptyReads.await(10, TimeUnit.SECONDS), "the empty queue's reader claimed the demand");
            busy.offerMany(1, 1, BUSY);
            Thread busyReader = awaitParkedForDemand("nfqueue-" + BUSY + "-rx");
            release.countDown();
            Packet p = got.poll(5, TimeUnit.SECONDS);
            assertNotNull(p, "the packet waited for a slice instead of being read when the demand came back ("
                    + busyReader.getState() + ")");
            assertEquals(BUSY, p.queueNumber());
        } finally {
            release.countDown();
            subscriber.dispose();
        }
    }

    /** The rx thread of that name once it parks in its loop (no demand), not in a socket wait. */
    private static Thread awaitParkedForDemand(String name) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals(name) && LockSupport.getBlocker(t) instanceof QueueReader) {
                    return t;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError(name + " never parked for lack of demand");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
