package io.nfqueue.test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * When each packet of a replay is due: at maximum speed at once; otherwise after the gap the
 * capture recorded since the previous packet, divided by the speed factor, each gap at most
 * {@code maxGap} (a capture that was paused, or whose clock stepped, would otherwise stall the
 * replay for as long). Due times add up from the first packet's start, not from when each
 * sleep happened to end, so sleeping late does not accumulate over a long capture.
 */
final class ReplayPacer {
    /** Sleeps are cut into slices so that a pipeline that ended stops the waiting soon. */
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final double speed;
    private final long maxGapNanos;
    private long dueNanos;
    private Instant previous;
    private boolean started;

    /** {@code speed} 0: maximum speed (no waiting); else the factor recorded gaps are divided by. */
    ReplayPacer(double speed, Duration maxGap) {
        this.speed = speed;
        this.maxGapNanos = maxGap.toNanos();
    }

    /**
     * Waits until the packet stamped {@code timestamp} is due, or until {@code stop} says to stop
     * waiting. A packet without a timestamp, or stamped before the previous one, is due at once.
     */
    void awaitTurn(Optional<Instant> timestamp, BooleanSupplier stop) throws InterruptedException {
        long now = System.nanoTime();
        if (!started) {
            started = true;
            dueNanos = now;
            previous = timestamp.orElse(null);
            return;
        }
        if (speed == 0 || timestamp.isEmpty()) {
            return;
        }
        Instant ts = timestamp.get();
        if (previous != null && ts.isAfter(previous)) {
            dueNanos += gapNanos(Duration.between(previous, ts));
        }
        if (previous == null || ts.isAfter(previous)) {
            previous = ts;
        }
        for (long left = dueNanos - System.nanoTime(); left > 0 && !stop.getAsBoolean();
             left = dueNanos - System.nanoTime()) {
            TimeUnit.NANOSECONDS.sleep(Math.min(left, SLICE_NANOS));
        }
    }

    /** The recorded gap at this speed, at most maxGap. */
    private long gapNanos(Duration recorded) {
        double scaled = recorded.getSeconds() * 1e9 / speed + recorded.getNano() / speed;
        return scaled >= maxGapNanos ? maxGapNanos : (long) scaled;
    }
}
