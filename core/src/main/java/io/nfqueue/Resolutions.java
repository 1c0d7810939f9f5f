package io.nfqueue;

import io.nfqueue.internal.DefaultVerdictLog;

import java.lang.System.Logger.Level;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How each packet of one bound queue gets its one verdict: the claim on the packet, the count of
 * unresolved packets, the default verdicts by cause (given at close, on a handler's error, after
 * the verdict timeout), their logging once per burst, and the listener told of every verdict.
 * Its one job is exactly one verdict per packet, counted.
 */
final class Resolutions {
    private final BoundQueue queue;
    private final QueueOptions options;
    private final VerdictSender sender;
    private final SocketReader reader;
    private final AtomicInteger unresolved;
    private final VerdictSubmitters submitters = new VerdictSubmitters();
    private final AtomicLongArray defaults = new AtomicLongArray(DefaultVerdictCause.values().length);
    private final DefaultVerdictLog defaultLog;
    /**
     * Packets an operator filtered or discarded: what the Reactor adapter's safe form is for, so
     * a pipeline's normal work, logged at DEBUG only (counted as DISCARD all the same).
     */
    private final DefaultVerdictLog discardLog;
    private final DefaultVerdictLog errorLog;
    /** The verdict timeout in nanoseconds, 0 without one. */
    private final long timeoutNanos;
    private volatile long lastExpiryNanos;
    private volatile ResolutionListener listener;

    Resolutions(BoundQueue queue, QueueOptions options, VerdictSender sender, SocketReader reader,
                AtomicInteger unresolved, DefaultVerdictLog defaultLog, DefaultVerdictLog errorLog) {
        this.queue = queue;
        this.options = options;
        this.sender = sender;
        this.reader = reader;
        this.unresolved = unresolved;
        this.defaultLog = defaultLog;
        this.discardLog = defaultLog.withLevel(Level.DEBUG);
        this.errorLog = errorLog;
        this.timeoutNanos = options.verdictTimeout().map(BoundQueue::saturatedNanos).orElse(0L);
    }

    /**
     * Claims {@code p} for {@code verdict} and queues the verdict to be sent; false if it already
     * had one. {@code cause} is null for the program's own verdicts; {@code logSingle} false when
     * the caller logs a whole burst itself.
     */
    boolean resolve(Packet p, Verdict verdict, DefaultVerdictCause cause, boolean logSingle) {
        // The claim-and-queue step: close() waits for every thread inside it before its last send.
        ResolutionListener l;
        submitters.enter();
        try {
            if (!p.claim(verdict, cause)) {
                return false;
            }
            unresolved.decrementAndGet();
            if (cause != null) {
                defaults.incrementAndGet(cause.ordinal());
            }
            sender.push(p);
            // Read inside the step: close() removes the listener only after every thread has left
            // it, so each verdict claimed before close() is told, even if its thread is descheduled
            // until close() has returned (read after the flush, it was lost then: 1 to 2 % of
            // cancels racing a delivery under load).
            l = listener;
        } finally {
            submitters.exit();
        }
        if (cause != null && logSingle) {
            DefaultVerdictLog log = cause == DefaultVerdictCause.DISCARD ? discardLog : defaultLog;
            log.record(1, "packets got the default verdict " + verdict + " (last cause: " + cause + ")");
        }
        if (!BatchDispatch.isDispatching(queue)) {
            sender.flush();
        }
        if (l != null) {
            try {
                l.resolved(p, verdict, cause);
            } catch (RuntimeException e) {
                errorLog.record(1, "resolution listener failures, last: " + e);
            }
        }
        return true;
    }

    /** The default verdict for {@code p}, counted under {@code cause}; false if it had a verdict. */
    boolean resolveWithDefault(Packet p, DefaultVerdictCause cause, boolean logSingle) {
        return resolve(p, options.defaultVerdict(), cause, logSingle);
    }

    /** Gives every unresolved packet the default verdict under {@code cause}; returns how many. */
    int resolveAll(DefaultVerdictCause cause) {
        int[] n = {0};
        reader.forEachHeld(p -> {
            if (resolveWithDefault(p, cause, false)) {
                n[0]++;
            }
        });
        logBurst(n[0], cause);
        return n[0];
    }

    /**
     * Gives the default verdict to packets unresolved for longer than the verdict timeout; scans
     * at most every quarter of the timeout (and every 50 ms), so it is cheap to call often.
     */
    int expireOverdue() {
        long limit = timeoutNanos;
        if (limit == 0 || unresolved.get() == 0) {
            return 0;
        }
        long now = options.ticker().read();
        if (now - lastExpiryNanos < Math.min(limit / 4, 50_000_000L)) {
            return 0;
        }
        lastExpiryNanos = now;
        int[] n = {0};
        reader.forEachHeld(p -> {
            if (now - p.receivedNanos() >= limit && resolveWithDefault(p, DefaultVerdictCause.TIMEOUT, false)) {
                n[0]++;
            }
        });
        logBurst(n[0], DefaultVerdictCause.TIMEOUT);
        return n[0];
    }

    void logBurst(int n, DefaultVerdictCause cause) {
        defaultLog.burst(n, "unresolved packets got the default verdict " + options.defaultVerdict() + " because of " + cause);
    }

    /** Every thread that claimed a verdict has queued it: close()'s half of the handshake. */
    void awaitSubmitters() {
        submitters.awaitNone();
    }

    void listener(ResolutionListener l) {
        listener = l;
    }

    Map<DefaultVerdictCause, Long> defaultsByCause() {
        Map<DefaultVerdictCause, Long> byCause = new EnumMap<>(DefaultVerdictCause.class);
        for (DefaultVerdictCause c : DefaultVerdictCause.values()) {
            long n = defaults.get(c.ordinal());
            if (n != 0) {
                byCause.put(c, n);
            }
        }
        return byCause;
    }
}
