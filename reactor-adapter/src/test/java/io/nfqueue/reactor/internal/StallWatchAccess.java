package io.nfqueue.reactor.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Lets tests of other packages shorten the time before reading counts as stalled. */
public final class StallWatchAccess {
    private static final long DEFAULT = TimeUnit.SECONDS.toNanos(1);

    private StallWatchAccess() {
    }

    public static void stallAfter(Duration d) {
        StallWatch.stallAfterNanos = d.toNanos();
    }

    public static void demandStallAfter(Duration d) {
        StallWatch.demandStallAfterNanos = d.toNanos();
    }

    public static void reset() {
        StallWatch.stallAfterNanos = DEFAULT;
        StallWatch.demandStallAfterNanos = TimeUnit.SECONDS.toNanos(5);
    }
}
