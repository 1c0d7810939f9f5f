package io.nfqueue.reactor;

import io.nfqueue.BoundQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.reactor.internal.Timings;

import java.util.function.Function;

/** Receivers with other clocks, for tests that must not wait for the defaults (of any package). */
public final class TestReceivers {
    private TestReceivers() {
    }

    public static PacketReceiver create(ReceiverOptions options, Function<QueueOptions, BoundQueue> binder,
                                        Timings timings) {
        return PacketReceiver.create(options, binder, timings);
    }

    /** A receiver over real queues with other clocks. */
    public static PacketReceiver create(ReceiverOptions options, Timings timings) {
        return PacketReceiver.create(options, BoundQueue::open, timings);
    }
}
