package io.nfqueue.reactor.internal;

import java.time.Duration;

/**
 * The receive loop's clocks, per subscription: fixed for users, changed only by tests that must
 * show something happens by a wake-up rather than by a timer, or that a warning fires, without
 * waiting for the defaults.
 *
 * @param sliceMillis          longest wait of a receive loop before it looks again at termination
 * @param tickMillis           time between the watchdog's ticks
 * @param stallAfterNanos      how long reading must stay stopped at maxInFlight to count as a stall
 * @param demandStallAfterNanos how long demand must stay zero, with nothing unresolved and packets
 *                             waiting in the kernel, to count as a stall
 */
public record Timings(long sliceMillis, long tickMillis, long stallAfterNanos, long demandStallAfterNanos) {
    /**
     * 50 ms slices: a loop notices its end within that. 10 ms ticks: the max-length lags a stopped
     * subscriber by at most that plus the rate's decay, a verdict timeout fires at most that late,
     * and 100 wake-ups a second cost well under 0.1 % of a core. A second at the in-flight limit:
     * a healthy pipeline there frees room within milliseconds, and a second is far shorter than
     * the verdict timeout that frees stranded packets. Five seconds without demand: a pipeline may
     * finish work on packets it has resolved (a write of their results) before it asks for more.
     */
    public static final Timings DEFAULT = new Timings(50, 10, Duration.ofSeconds(1).toNanos(),
            Duration.ofSeconds(5).toNanos());

    public Timings withSliceMillis(long millis) {
        return new Timings(millis, tickMillis, stallAfterNanos, demandStallAfterNanos);
    }

    public Timings withStallAfter(Duration d) {
        return new Timings(sliceMillis, tickMillis, d.toNanos(), demandStallAfterNanos);
    }

    public Timings withDemandStallAfter(Duration d) {
        return new Timings(sliceMillis, tickMillis, stallAfterNanos, d.toNanos());
    }
}
