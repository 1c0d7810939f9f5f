package io.nfqueue.samples;

import io.nfqueue.Packet;
import io.nfqueue.VerdictAlreadyGivenException;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Accepts every packet, and asks for packets a window at a time: {@code window} at first, then,
 * whenever the outstanding demand fell to half of it, enough to fill it again (as Reactor's
 * {@code limitRate} does). So the outstanding demand moves between half the window and the
 * window, and the receiver's kernel max-length moves with it: the stats command shows both.
 */
final class DemandWindowSubscriber extends BaseSubscriber<Packet> {
    private final int window;
    private final AtomicLong requested = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    DemandWindowSubscriber(int window) {
        if (window < 1) {
            throw new IllegalArgumentException("the demand window must be at least 1: " + window);
        }
        this.window = window;
    }

    @Override
    protected void hookOnSubscribe(Subscription subscription) {
        ask(window);
    }

    @Override
    protected void hookOnNext(Packet packet) {
        try {
            packet.accept();
        } catch (VerdictAlreadyGivenException closedMeanwhile) {
            // The queue closed (Ctrl-C) while this packet was on its way here: it has its default verdict.
        }
        long outstanding = requested.get() - delivered.incrementAndGet();
        if (outstanding <= window / 2) {
            ask(window - outstanding);
        }
    }

    @Override
    protected void hookOnError(Throwable error) {
        failure.set(error);
    }

    private void ask(long n) {
        requested.addAndGet(n);
        request(n);
    }

    int window() {
        return window;
    }

    /** Packets asked for and not yet delivered. */
    long outstanding() {
        return requested.get() - delivered.get();
    }

    long requested() {
        return requested.get();
    }

    /** The error that ended the subscription (a failed bind, a receive error), or null. */
    Throwable failure() {
        return failure.get();
    }
}
