package io.nfqueue.test;

import java.time.Duration;
import java.util.Locale;

/** How the pipeline of a replay ended, told by its subscription's terminal signal; thread-safe. */
final class PipelineEnd {
    private volatile boolean completed;
    private volatile Throwable error;

    void completed() {
        completed = true;
    }

    void failed(Throwable t) {
        error = t;
    }

    boolean hasEnded() {
        return completed || error != null;
    }

    Throwable error() {
        return error;
    }

    /**
     * What happened to the pipeline, to follow "the pipeline ": "completed by itself", "failed:
     * ...", or how the replay cancelled it.
     *
     * @param settled  every packet had its verdict when the replay cancelled (false: the settle timeout passed)
     * @param waiting  packets without a verdict when the settle timeout passed
     * @param released the queue was let go of (every packet resolved, dropped at close, or never bound) in time
     */
    String describe(boolean settled, Duration settleTimeout, int waiting, boolean released) {
        String s;
        if (error != null) {
            s = "failed: " + error;
        } else if (completed) {
            s = "completed by itself";
        } else if (settled) {
            s = "was cancelled by the replay at its end";
        } else {
            s = String.format(Locale.ROOT, "was cancelled by the replay after %.1f s without a new verdict (%d %s waiting)",
                    settleTimeout.toMillis() / 1000.0, waiting, waiting == 1 ? "packet was" : "packets were");
        }
        return released ? s : s + "; some packets were neither resolved nor dropped by the time the replay gave up waiting";
    }
}
