package io.nfqueue.reactor.internal;

/**
 * Keeps a queue's kernel max-length near its target, outstanding demand plus unresolved packets,
 * clamped to the configured bounds (unbounded demand: the upper bound). It moves the length
 * only when the target leaves the band [length - hysteresis, length], and then sets it half a
 * hysteresis above the target, so a target drifting by one packet at a time costs a config
 * message at most every hysteresis/2 packets, never one per packet. The kernel then holds at most
 * target + hysteresis packets.
 */
final class MaxLengthControl {
    private final int min;
    private final int max;
    private final int hysteresis;
    private int current;

    MaxLengthControl(int min, int max, int hysteresis, int initial) {
        this.min = min;
        this.max = max;
        this.hysteresis = hysteresis;
        this.current = initial;
    }

    /** The new max-length to configure, or -1 to leave it. Called by the reader and by request(). */
    synchronized int update(long outstandingDemand, int unresolved) {
        // Saturating: demand just below Long.MAX_VALUE plus unresolved packets must not wrap negative.
        long wanted = outstandingDemand > Long.MAX_VALUE - unresolved ? Long.MAX_VALUE : outstandingDemand + unresolved;
        long target = outstandingDemand == Long.MAX_VALUE ? max : clamp(wanted);
        if (target > current || target + hysteresis < current) {
            int next = clamp(target + hysteresis / 2);
            if (next != current) {
                current = next;
                return next;
            }
        }
        return -1;
    }

    synchronized int current() {
        return current;
    }

    private int clamp(long value) {
        return (int) Math.max(min, Math.min(max, value));
    }
}
