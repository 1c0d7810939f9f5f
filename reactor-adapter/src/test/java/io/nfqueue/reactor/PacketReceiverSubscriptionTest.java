package io.nfqueue.reactor;

import io.nfqueue.MissingPrivilegeException;
import io.nfqueue.NfQueueException;
import io.nfqueue.Packet;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A subscription's life: it binds when it starts and unbinds when it ends; a queue has one
 * owner, so a second concurrent subscription is refused; a bind failure is an onError.
 */
@Timeout(60)
class PacketReceiverSubscriptionTest {
    private static final int Q = 6;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private final FakeQueues fakes = new FakeQueues();

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    @Test
    void bindsOnSubscribeAndEmitsOnTheQueuesReceiveThread() {
        fakes.next(Q).offerMany(1, 3, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Flux<Packet> flux = receiver.receive();
        assertEquals(0, fakes.bindings(), "nothing is bound before a subscription");
        Set<String> threads = ConcurrentHashMap.newKeySet();

        StepVerifier.create(flux.doOnNext(p -> {
                    threads.add(Thread.currentThread().getName());
                    p.accept();
                }).take(3))
                .expectNextCount(3)
                .verifyComplete();

        assertEquals(Set.of("nfqueue-" + Q + "-rx"), threads);
        assertEquals(1, fakes.bindings());
        Await.until(() -> fakes.last(Q).isClosed(), () -> "unbound when take ends the subscription");
        Await.until(() -> !receiveThreadAlive(Q), () -> "the receive thread ends with its subscription: "
                + receiveThreadStacks(Q));
    }

    @Test
    void secondConcurrentSubscriptionIsRefusedWhileTheFirstContinues() {
        FakeTransport fake = fakes.next(Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        List<Packet> first = new CopyOnWriteArrayList<>();
        Disposable running = receiver.receive().subscribe(p -> {
            first.add(p);
            p.accept();
        });
        try {
            StepVerifier.create(receiver.receive())
                    .expectErrorSatisfies(e -> {
                        assertInstanceOf(IllegalStateException.class, e);
                        assertTrue(e.getMessage().contains("already have an active subscription"), e.getMessage());
                        assertTrue(e.getMessage().contains(String.valueOf(Q)), "names the queue: " + e.getMessage());
                    })
                    .verify(VERIFY);
            assertEquals(1, fakes.bindings(), "the refused subscription bound nothing");

            fake.offerMany(1, 5, Q);
            Await.until(() -> first.size() == 5, () -> "the first subscription goes on, got " + first.size());
            assertFalse(fake.isClosed());
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void afterTheFirstCancelsANewSubscriptionBindsAgain() {
        fakes.next(Q).offerMany(1, 2, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive(), 1).expectNextCount(1).thenCancel().verify(VERIFY);
        FakeTransport second = fakes.prepareAnother(Q).offerMany(1, 4, Q); // a new binding reuses ids
        StepVerifier.create(receiver.receive().doOnNext(Packet::accept).take(4))
                .expectNextCount(4)
                .verifyComplete();

        assertEquals(2, fakes.bindings());
        Await.until(second::isClosed, () -> "second binding closed");
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void afterAnErrorANewSubscriptionBindsAgain() {
        fakes.next(Q).offerMany(1, 1, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        StepVerifier.create(receiver.receive().doOnNext(p -> {
                    throw new IllegalStateException("boom");
                }))
                .expectErrorMessage("boom")
                .verify(VERIFY);

        fakes.prepareAnother(Q).offerMany(1, 1, Q);
        StepVerifier.create(receiver.receive().doOnNext(Packet::accept).take(1))
                .expectNextCount(1)
                .verifyComplete();
        assertEquals(2, fakes.bindings());
    }

    /**
     * A late verdict on a packet of an earlier binding must not reach the new binding, whose
     * kernel queue reuses the same ids.
     */
    @Test
    void aVerdictForAPacketOfAnEarlierBindingNeverReachesTheNewOne() {
        fakes.next(Q).offerMany(1, 1, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        List<Packet> old = new CopyOnWriteArrayList<>();
        StepVerifier.create(receiver.receive().doOnNext(old::add), 1).expectNextCount(1).thenCancel().verify(VERIFY);

        FakeTransport second = fakes.prepareAnother(Q).offerMany(1, 1, Q); // id 1 again
        List<Packet> current = new CopyOnWriteArrayList<>();
        Disposable running = receiver.receive().subscribe(current::add);
        try {
            Await.until(() -> current.size() == 1, () -> "packet 1 of the new binding");
            assertThrows(IllegalStateException.class, () -> old.get(0).accept(), "already defaulted at cancel");
            Await.quiet();
            assertNull(second.lastVerdictFor(1), "the old packet's verdict did not reach the new binding");
            current.get(0).drop();
            assertTrue(second.awaitVerdictFor(1, VERIFY));
            assertEquals(NativeConstants.get().nfDrop, second.lastVerdictFor(1).baseVerdict());
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void bindFailureReachesTheSubscriberAsOnError() {
        fakes.next(Q).failBind(NativeConstants.get().eperm);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));

        StepVerifier.create(receiver.receive())
                .expectErrorSatisfies(e -> {
                    assertInstanceOf(MissingPrivilegeException.class, e);
                    assertTrue(e.getMessage().contains("CAP_NET_ADMIN"), e.getMessage());
                })
                .verify(VERIFY);
        assertTrue(fakes.last(Q).isClosed(), "the failed socket is closed");

        // The failed subscription released the receiver.
        fakes.prepareAnother(Q).offerMany(1, 1, Q);
        StepVerifier.create(receiver.receive().doOnNext(Packet::accept).take(1)).expectNextCount(1).verifyComplete();
    }

    @Test
    void bindFailureOfOneQueueOfARangeClosesTheOthers() {
        fakes.next(Q).offerMany(1, 3, Q);
        fakes.next(Q + 1).failBind(NativeConstants.get().eperm);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queues(Q, Q + 2));

        StepVerifier.create(receiver.receive())
                .expectError(NfQueueException.class)
                .verify(VERIFY);

        assertEquals(2, fakes.bindings(), "the third queue was never tried");
        assertTrue(fakes.last(Q).isClosed(), "the queue bound before the failure is closed");
        assertEquals("", fakes.last(Q).exactlyOnceProblems(), "what it had already read got the default verdict");
    }

    /** receive() and receiveParallel() bind the same queues: a receiver must refuse the second. */
    @Test
    void receiveParallelWhileReceiveIsActiveIsRefused() {
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive().subscribe(Packet::accept);
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        Disposable parallel = receiver.receiveParallel().sequential().subscribe(Packet::accept, errors::add);
        try {
            Await.until(() -> !errors.isEmpty() || fakes.bindings() > 1, () -> "refusal or second bind");
            assertEquals(1, fakes.bindings(), "queue " + Q + " was bound a second time while receive() owns it");
            assertInstanceOf(IllegalStateException.class, errors.get(0));
        } finally {
            parallel.dispose();
            running.dispose();
        }
    }

    /**
     * §3.13: once cancelled, the receiver must not keep the subscriber reachable (a subscriber
     * may hold a whole pipeline). The receiver keeps its last bindings for {@code counters()},
     * so whatever those bindings reference stays alive until the next subscription.
     */
    @Test
    void aCancelledSubscriberIsNotRetainedByTheReceiver() throws Exception {
        fakes.next(Q).offerMany(1, 3, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        WeakReference<Object> subscriber = subscribeAndCancel(receiver);
        for (int i = 0; i < 10 && subscriber.get() != null; i++) {
            System.gc();
            Thread.sleep(50);
        }
        assertNull(subscriber.get(), "the receiver still references the cancelled subscriber");
        assertEquals(1, receiver.counters().size(), "counters of the last subscription stay readable");
    }

    /** In its own frame, so that no local variable of the test keeps the subscriber alive. */
    private static WeakReference<Object> subscribeAndCancel(PacketReceiver receiver) {
        BaseSubscriber<Packet> s = new BaseSubscriber<>() {
        };
        receiver.receive().subscribe(s);
        Await.until(() -> receiver.counters().size() == 1 && receiver.counters().get(0).received() == 3,
                () -> "3 delivered");
        s.dispose();
        Await.until(() -> !receiveThreadAlive(Q), () -> "receive thread ended");
        return new WeakReference<>(s);
    }

    private static String receiveThreadStacks(int queue) {
        StringBuilder b = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, stack) -> {
            if (t.getName().equals("nfqueue-" + queue + "-rx")) {
                b.append(t).append(' ').append(t.getState()).append('\n');
                for (StackTraceElement e : stack) {
                    b.append("  at ").append(e).append('\n');
                }
            }
        });
        return b.toString();
    }

    private static boolean receiveThreadAlive(int queue) {
        String name = "nfqueue-" + queue + "-rx";
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }
}
