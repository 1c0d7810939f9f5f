package io.nfqueue.reactor.internal;

/**
 * Decides a queue's kernel max-length: the packets it holds unresolved plus a headroom of unread
 * packets, where the headroom is what the subscriber drains within the queue-delay budget at its
 * measured rate ({@link DrainRate}), never below the floor, and the total never above the ceiling.
 * While the rate is unknown the headroom is the ceiling (start generous, then adapt).
 *
 * <p>Why not outstanding demand: Reactor operators request in small batches and replenish as they
 * drain ({@code concatMap} one at a time, {@code flatMap} its concurrency, {@code limitRate(n)} n),
 * so demand says how a subscriber batches, not how much it absorbs; a max-length of
 * demand + unresolved dropped 90 % of bursts that the pipeline would have drained in
 * microseconds. The rate says how much it absorbs, and the budget bounds how long a packet can
 * wait in the kernel behind the others: {@code headroom / rate <= budget}, except for the floor.
 *
 * <p>Hysteresis, so that no packet costs a config message: a change sets the length a margin
 * above the target ({@code max(hysteresis / 2, target / 4)}); it grows as soon as the target
 * passes it (too short a queue loses packets) and shrinks only once the target is more than
 * {@code max(hysteresis, length / 3)} below it. So the target may move within about -17 % and
 * +25 % of where it was set without a message: a target that wanders by a few packets, or a rate
 * that jitters (the JIT warming up, a GC pause) changes nothing; a rate that rises or falls by
 * orders of magnitude takes a message per factor of about 1.2. The kernel then holds at most
 * target + {@code max(hysteresis, length / 3)} packets.
 */
final class MaxLengthControl {
    private final int floor;
    private final int ceiling;
    private final int hysteresis;
    private final double budgetSeconds;
    private int current;
    private long changes;

    MaxLengthControl(int floor, int ceiling, int hysteresis, long budgetNanos, int initial) {
        this.floor = floor;
        this.ceiling = ceiling;
        this.hysteresis = hysteresis;
        this.budgetSeconds = budgetNanos / 1e9;
        this.current = initial;
    }

    /** The headroom a subscriber draining {@code ratePerSecond} earns (NaN: not known yet). */
    int headroom(double ratePerSecond) {
        if (Double.isNaN(ratePerSecond)) {
            return ceiling;
        }
        double earned = ratePerSecond * budgetSeconds;
        return earned >= ceiling ? ceiling : Math.max(floor, (int) earned);
    }

    /**
     * The new max-length to configure, or -1 to leave it.
     *
     * @param unresolved    packets handed out and waiting for their verdict
     * @param ratePerSecond the subscriber's drain rate, NaN while unknown
     */
    synchronized int update(int unresolved, double ratePerSecond) {
        long target = Math.min(ceiling, (long) unresolved + headroom(ratePerSecond));
        boolean grow = target > current;
        boolean shrink = target < current - Math.max(hysteresis, current / 3);
        if (!grow && !shrink) {
            return -1;
        }
        int next = (int) Math.min(ceiling, target + Math.max(hysteresis / 2, target / 4));
        if (next == current) {
            return -1;
        }
        current = next;
        changes++;
        return next;
    }

    synchronized int current() {
        return current;
    }

    /** Config messages this control asked for since the bind. */
    synchronized long changes() {
        return changes;
    }
}
