package io.nfqueue.reactor;

import io.nfqueue.BoundQueue;
import io.nfqueue.Packet;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.testing.FakeTransport;
import org.reactivestreams.Publisher;
import org.reactivestreams.tck.PublisherVerification;
import org.reactivestreams.tck.TestEnvironment;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The Reactive Streams TCK's publisher rules for {@link PacketReceiver#receive()} over a
 * {@link FakeTransport}. Runs on TestNG (the TCK's framework) through the JUnit Platform's
 * testng-engine, so surefire runs it beside the JUnit 5 tests.
 *
 * <p>{@code receive()} is infinite by design: a queue delivers packets for as long as it is
 * bound and never completes. The TCK asks for a publisher of exactly {@code n} elements that then
 * completes, so {@link #createPublisher} gives {@code receive().take(n)} over a fake whose socket
 * holds exactly {@code n} packets. {@code take} adds nothing the adapter relies on: it limits the
 * request to {@code n} and cancels after the n-th packet, as a user's {@code take} would; every
 * rule on request, cancel, signalling and demand accounting is still exercised on the adapter's
 * own subscription. Where {@code n} is too large to preload (the §3.17 test asks for
 * {@code Integer.MAX_VALUE}), the fake supplies packets on demand, one receive batch at a time,
 * never more than {@code n} in all; for {@code Long.MAX_VALUE} (an unbounded stream) the publisher
 * is {@code receive()} itself.
 *
 * <p>A receiver allows one subscription at a time (a queue has one owner), so the optional §1.11
 * multi-subscriber tests are skipped by the TCK as "not implemented".
 */
public class PacketReceiverTckTest extends PublisherVerification<Packet> {
    private static final int QUEUE = 40;
    /** Up to this many packets are queued in the fake before subscribing; beyond, on demand. */
    private static final long PRELOAD_LIMIT = 4096;
    private final AtomicLong nextId = new AtomicLong(1);

    public PacketReceiverTckTest() {
        // Packets come from a receive thread: a second of patience for signals that must come,
        // 200 ms of silence for those that must not.
        super(new TestEnvironment(1000, 200), 1000);
    }

    @Override
    public Publisher<Packet> createPublisher(long elements) {
        PacketReceiver receiver = PacketReceiver.create(options(), q -> BoundQueue.open(q, fakeWith(elements)));
        return elements == Long.MAX_VALUE ? receiver.receive() : receiver.receive().take(elements);
    }

    /** A receiver whose bind is refused (EPERM): its subscriber gets onSubscribe, then onError. */
    @Override
    public Publisher<Packet> createFailedPublisher() {
        PacketReceiver receiver = PacketReceiver.create(options(),
                q -> BoundQueue.open(q, new FakeTransport().failBind(NativeConstants.get().eperm)));
        return receiver.receive();
    }

    /** A small copy range: the fake's packets are 4 bytes, and every binding allocates its slots. */
    private static ReceiverOptions options() {
        return ReceiverOptions.queue(QUEUE).queueOptions(q -> q.copyRange(128));
    }

    /** A fresh socket for each binding (a publisher may be subscribed to more than once). */
    private FakeTransport fakeWith(long elements) {
        FakeTransport fake = new FakeTransport();
        if (elements <= PRELOAD_LIMIT) {
            offer(fake, (int) elements);
            return fake;
        }
        AtomicLong left = new AtomicLong(elements);
        // On demand: when a receive call finds the socket empty, queue the next batch first.
        fake.onReceive(() -> {
            if (fake.unread() == 0 && !fake.isClosed()) {
                long n = Math.min(32, left.get());
                left.addAndGet(-n);
                offer(fake, (int) n);
            }
        });
        return fake;
    }

    private void offer(FakeTransport fake, int count) {
        for (int i = 0; i < count; i++) {
            long id = nextId.getAndIncrement();
            fake.offer((int) id, QUEUE, new byte[] {0x45, 0, 0, 20});
        }
    }
}
