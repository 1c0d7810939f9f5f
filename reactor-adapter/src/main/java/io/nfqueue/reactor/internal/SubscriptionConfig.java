package io.nfqueue.reactor.internal;

import io.nfqueue.BoundQueue;
import io.nfqueue.QueueOptions;
import reactor.core.scheduler.Scheduler;

import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * What one subscription needs to know, as the public options decided it: the internal package's
 * view of {@code ReceiverOptions}, so that it depends on nothing of the public package (the public
 * package builds this; no cycle between the two).
 *
 * @param firstQueue      the range's first queue
 * @param lastQueue       its last
 * @param queueOptions    the options each queue is bound with
 * @param maxInFlight     reading stops at this many unresolved packets per queue
 * @param floor           the least headroom
 * @param ceiling         the most the kernel holds
 * @param hysteresis      the least change of the max-length worth a config message
 * @param budgetNanos     the queue delay budget
 * @param handoff         the scheduler that reads and emits, or null for the receive thread
 * @param threads         where the receive threads and the watchdog come from
 * @param timer           the scheduler the watchdog runs on and whose clock times everything, or
 *                        null for a watchdog thread of its own and {@link System#nanoTime()}
 * @param onBound         run for each queue bound
 * @param onUnbound       run for each queue unbound
 * @param timings         the loops' clocks
 */
public record SubscriptionConfig(int firstQueue, int lastQueue, IntFunction<QueueOptions> queueOptions, int maxInFlight,
                                 int floor, int ceiling, int hysteresis, long budgetNanos, Scheduler handoff,
                                 ThreadFactory threads, Scheduler timer, List<Consumer<BoundQueue>> onBound,
                                 List<Consumer<BoundQueue>> onUnbound, Timings timings) {

    /** The clock of everything the subscription times: the timer's, or {@link System#nanoTime()}. */
    public LongSupplier clock() {
        Scheduler t = timer;
        return t == null ? System::nanoTime : () -> t.now(TimeUnit.NANOSECONDS);
    }
}
