package io.nfqueue.internal;

import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Logs a burst of events once instead of once per packet: the first event logs at once,
 * later ones are summed and logged with their count at most once per interval. Logger
 * {@code io.nfqueue}, at WARNING unless made with another level.
 */
public final class DefaultVerdictLog {
    private static final Logger LOG = System.getLogger("io.nfqueue");
    private static final long INTERVAL_NANOS = 1_000_000_000L;

    private final String subject;
    private final Level level;
    private final AtomicLong sinceLastLog = new AtomicLong();
    private final AtomicLong lastLogNanos = new AtomicLong(System.nanoTime() - INTERVAL_NANOS);

    public DefaultVerdictLog(String subject) {
        this(subject, Level.WARNING);
    }

    public DefaultVerdictLog(String subject, Level level) {
        this.subject = subject;
        this.level = level;
    }

    /** A log of the same subject at {@code level}, with a count and an interval of its own. */
    public DefaultVerdictLog withLevel(Level level) {
        return new DefaultVerdictLog(subject, level);
    }

    /** Logs a whole burst at once (a close, a cancel, a timeout sweep): one line for all of it. */
    public void burst(long count, String what) {
        if (count > 0) {
            lastLogNanos.set(System.nanoTime());
            long earlier = sinceLastLog.getAndSet(0);
            LOG.log(level, subject + ": " + (count + earlier) + " " + what);
        }
    }

    /** Adds {@code count} events described by {@code what}; logs if the interval has passed. */
    public void record(long count, String what) {
        sinceLastLog.addAndGet(count);
        long now = System.nanoTime();
        long last = lastLogNanos.get();
        if (now - last >= INTERVAL_NANOS && lastLogNanos.compareAndSet(last, now)) {
            long n = sinceLastLog.getAndSet(0);
            if (n > 0) {
                LOG.log(level, subject + ": " + n + " " + what + " (logged at most once a second)");
            }
        }
    }
}
