package io.nfqueue.reactor.internal;

/**
 * How fast a subscriber takes packets while it has work: packets delivered per second of the
 * reader's <em>busy</em> time, that is, every moment the reader was not idle waiting for packets
 * with demand and room to read them. Busy time is reading, emitting, a subscriber working inside
 * {@code onNext}, and waiting for demand or for verdicts. So the figure is the pipeline's capacity,
 * not the arrival rate: a fast pipeline fed a trickle still shows its speed, because the waits for
 * packets do not count; a subscriber that stops requesting, or blocks in {@code onNext}, keeps
 * accumulating busy time without deliveries, and its rate decays toward zero.
 *
 * <p>Both sums decay exponentially, mostly with busy time (time constant {@code tauBusy}) and
 * slowly with wall time ({@code tauWall}): the estimate covers roughly the last {@code tauBusy}
 * of work, so a subscriber that stops sees its rate fall within a few of them; idle periods decay
 * both sums alike and leave their ratio, the rate, as it was, so between two bursts a pipeline
 * keeps the rate its last burst showed; and the wall-time decay lets the weight of a stall fade
 * once the subscriber resumes and works in short spells again (a fast subscriber fed a trickle
 * adds a few microseconds of busy time per packet, and would otherwise drag the memory of its
 * stall along for a long time). Until {@code minBusy} of busy time has been seen the rate is
 * unknown, and the control starts generous rather than guess from a few microseconds; once known
 * it stays known.
 *
 * <p>What the control uses is {@link #heldPerSecond()}: the rate, held at its highest for half a
 * second before it may come down. A rate goes up at once, so the headroom grows as soon as the
 * pipeline shows it can take more; it comes down only once a lower rate has lasted, so that a
 * pause of a few milliseconds (a GC, the receive thread off the CPU on a busy machine, a JIT
 * deoptimization) does not shrink the queue just before a burst.
 *
 * <p>{@link #sample} is called by one thread at a time (the watchdog's tick); the rates are read
 * from any thread.
 */
final class DrainRate {
    private final double tauBusyNanos;
    private final double tauWallNanos;
    private final double minBusyNanos;
    /** Decayed packet count and busy nanoseconds: their ratio is the rate. */
    private double packets;
    private double busyNanos;
    private long lastAt;
    private long lastDelivered;
    private long lastIdle;
    private boolean started;
    private boolean known;
    private volatile double perSecond = Double.NaN;
    private final long holdNanos;
    private volatile double held = Double.NaN;
    private long heldSince;

    DrainRate(long tauBusyNanos, long tauWallNanos, long minBusyNanos, long holdNanos) {
        this.tauBusyNanos = tauBusyNanos;
        this.tauWallNanos = tauWallNanos;
        this.minBusyNanos = minBusyNanos;
        this.holdNanos = holdNanos;
    }

    /**
     * Folds in what happened since the previous sample.
     *
     * @param now       {@code System.nanoTime()}
     * @param delivered packets the reader has delivered so far (a running total)
     * @param idleNanos time the reader has spent idle so far, up to {@code now} (a running total)
     */
    void sample(long now, long delivered, long idleNanos) {
        if (!started) {
            started = true;
            lastAt = now;
            lastDelivered = delivered;
            lastIdle = idleNanos;
            return;
        }
        long wall = Math.max(0, now - lastAt);
        long busy = Math.min(wall, Math.max(0, wall - (idleNanos - lastIdle)));
        long got = Math.max(0, delivered - lastDelivered);
        lastAt = now;
        lastDelivered = delivered;
        lastIdle = idleNanos;
        double keep = Math.exp(-(busy / tauBusyNanos + wall / tauWallNanos));
        packets = packets * keep + got;
        busyNanos = busyNanos * keep + busy;
        if (!known && busyNanos >= minBusyNanos) {
            known = true;
        }
        if (known && busyNanos > 0) {
            // (Both sums reach 0 only after hours idle, where the last rate stands.)
            perSecond = packets * 1e9 / busyNanos;
        }
        double rate = perSecond;
        if (!Double.isNaN(rate) && (Double.isNaN(held) || rate >= held || now - heldSince >= holdNanos)) {
            held = rate;
            heldSince = now;
        }
    }

    /** The rate held at its highest for the hold time before it may come down; NaN while unknown. */
    double heldPerSecond() {
        return held;
    }

    /** Packets per second of busy time, or NaN while unknown. */
    double perSecond() {
        return perSecond;
    }
}
