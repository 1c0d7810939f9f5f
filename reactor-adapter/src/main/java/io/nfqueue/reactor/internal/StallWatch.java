package io.nfqueue.reactor.internal;

import io.nfqueue.BoundQueue;

import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Says so when a queue's reading has stopped for good reason to think something is wrong, which
 * otherwise shows only as a kernel queue that fills and then drops every packet, silently:
 * <ul>
 * <li>{@code maxInFlight} packets wait for their verdict for over a second: a pipeline that
 * strands packets (an operator dropped them and nothing gave them a verdict), or one that holds
 * more at once than it was given room for;
 * <li>the subscriber has requested nothing for five seconds while the JVM holds none of its
 * packets and the kernel holds more: nothing is being worked on, yet nothing is asked for. A
 * stage that stopped requesting for good, such as a {@code groupBy} whose group nobody subscribes
 * to (once that group's buffer is full, the whole {@code groupBy} requests nothing more). A slow
 * subscriber does not look like this: it holds the packet it works on.
 * </ul>
 * One WARN per stall (at most one a minute per queue, with the count of those not logged), and a
 * counter of stalls. Driven by the watchdog's tick; one thread.
 */
final class StallWatch {
    private static final Logger LOG = System.getLogger("io.nfqueue.reactor");
    private static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final BoundQueue queue;
    private final int maxInFlight;
    private final LongSupplier outstandingDemand;
    private final long stallAfterNanos;
    private final long demandStallAfterNanos;
    private long atLimitSince = -1;
    private boolean counted;
    private long idleDemandSince = -1;
    private boolean demandCounted;
    private volatile long stalls;
    private long lastLog;
    private boolean logged;
    private long unlogged;

    StallWatch(BoundQueue queue, int maxInFlight, LongSupplier outstandingDemand, Timings timings) {
        this.queue = queue;
        this.maxInFlight = maxInFlight;
        this.outstandingDemand = outstandingDemand;
        this.stallAfterNanos = timings.stallAfterNanos();
        this.demandStallAfterNanos = timings.demandStallAfterNanos();
    }

    /** Stalls so far: times reading stayed stopped at the in-flight limit for longer than a second. */
    long stalls() {
        return stalls;
    }

    void check(long now) {
        checkDemand(now);
        int unresolved = queue.unresolvedCount();
        if (unresolved < maxInFlight) {
            atLimitSince = -1;
            counted = false;
            return;
        }
        if (atLimitSince < 0) {
            atLimitSince = now;
        }
        if (counted || now - atLimitSince < stallAfterNanos) {
            return;
        }
        counted = true;
        if (logged && now - lastLog < LOG_INTERVAL_NANOS) {
            unlogged++;
            stalls++;
            return;
        }
        Duration oldest = queue.oldestUnresolvedAge();
        warn(now, String.format(Locale.ROOT,
                "queue %d: reading has stopped for %.1f s: %d packets (maxInFlight) wait for their verdict, the oldest "
                        + "for %.1f s%s. Packets that an operator drops (filter, distinct, onErrorContinue, an abandoned "
                        + "groupBy group, ...) keep their place until the verdict timeout unless the pipeline hands them "
                        + "back: subscribe with receiver.receive(packets -> ...), or end the chain with "
                        + ".transform(Verdicts.resolveDropped()); if the pipeline holds this many packets on purpose, "
                        + "raise ReceiverOptions.maxInFlight. See docs/guide.md, \"Composing operators\".",
                queue.queueNumber(), (now - atLimitSince) / 1e9, unresolved, oldest.toNanos() / 1e9, "%s"));
    }

    /** The second kind: no demand, nothing held in the JVM, packets waiting in the kernel. */
    private void checkDemand(long now) {
        if (outstandingDemand.getAsLong() != 0 || queue.unresolvedCount() != 0) {
            idleDemandSince = -1;
            demandCounted = false;
            return;
        }
        if (idleDemandSince < 0) {
            idleDemandSince = now;
        }
        if (demandCounted || now - idleDemandSince < demandStallAfterNanos) {
            return;
        }
        long waiting;
        try {
            waiting = queue.stats().queued(); // all unread: nothing is unresolved
        } catch (RuntimeException closedMeanwhile) {
            return;
        }
        if (waiting == 0) {
            return; // nothing waits: an idle subscriber that asked for nothing, which is its right
        }
        demandCounted = true;
        if (logged && now - lastLog < LOG_INTERVAL_NANOS) {
            unlogged++;
            stalls++;
            return;
        }
        warn(now, String.format(Locale.ROOT,
                "queue %d: reading has stopped for %.1f s: the subscriber has requested nothing while it holds no "
                        + "packet and %d wait in the kernel%%s. A stage of the pipeline has stopped requesting: a "
                        + "groupBy group that nothing subscribes to (once its buffer is full the whole groupBy asks for "
                        + "nothing more: consume or cancel every group), a window that is never subscribed, a subscriber "
                        + "that forgot to request. The kernel drops what exceeds its queue. See docs/guide.md, "
                        + "\"Composing operators\".",
                queue.queueNumber(), (now - idleDemandSince) / 1e9, waiting));
    }

    /** Logs {@code message} (whose %s takes the count of stalls not logged since the last line). */
    private void warn(long now, String message) {
        String earlier = unlogged > 0 ? " (" + unlogged + " more stalls since the last warning)" : "";
        LOG.log(Level.WARNING, message.replace("%s", earlier));
        logged = true;
        lastLog = now;
        unlogged = 0;
        stalls++; // after the warning: whoever sees the count can find the line
    }
}
