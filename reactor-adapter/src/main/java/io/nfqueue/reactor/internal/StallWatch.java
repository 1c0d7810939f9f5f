package io.nfqueue.reactor.internal;

import io.nfqueue.BoundQueue;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Says so when a queue's reading has stopped because {@code maxInFlight} packets wait for their
 * verdict: the symptom of a pipeline that strands packets (an operator dropped them and nothing
 * gave them a verdict), or of one that holds more at once than it was given room for. Without
 * it the only sign would be a kernel queue that fills and then drops every packet, silently. One
 * WARN per stall (at most one a minute per queue, with the count of those not logged), and a
 * counter of stalls. Driven by the watchdog's tick; one thread.
 */
final class StallWatch {
    private static final Logger LOG = System.getLogger("io.nfqueue.reactor");
    /**
     * How long reading must have been stopped before it counts as a stall. Not final only so
     * that a test can shorten it. A second: a healthy pipeline at its in-flight limit frees room
     * within milliseconds (a verdict a packet), while one second is far shorter than the verdict
     * timeout that would resolve stranded packets.
     */
    static volatile long stallAfterNanos = TimeUnit.SECONDS.toNanos(1);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final BoundQueue queue;
    private final int maxInFlight;
    private long atLimitSince = -1;
    private boolean counted;
    private volatile long stalls;
    private long lastLog;
    private boolean logged;
    private long unlogged;

    StallWatch(BoundQueue queue, int maxInFlight) {
        this.queue = queue;
        this.maxInFlight = maxInFlight;
    }

    /** Stalls so far: times reading stayed stopped at the in-flight limit for longer than a second. */
    long stalls() {
        return stalls;
    }

    void check(long now) {
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
        String earlier = unlogged > 0 ? " (" + unlogged + " more stalls since the last warning)" : "";
        LOG.log(Level.WARNING, String.format(Locale.ROOT,
                "queue %d: reading has stopped for %.1f s: %d packets (maxInFlight) wait for their verdict, the oldest "
                        + "for %.1f s%s. Packets that an operator drops (filter, distinct, onErrorContinue, an abandoned "
                        + "groupBy group, ...) keep their place until the verdict timeout unless the pipeline hands them "
                        + "back: subscribe with receiver.receive(packets -> ...), or end the chain with "
                        + ".transform(Verdicts.resolveDropped()); if the pipeline holds this many packets on purpose, "
                        + "raise ReceiverOptions.maxInFlight. See docs/guide.md, \"Composing operators\".",
                queue.queueNumber(), (now - atLimitSince) / 1e9, unresolved, oldest.toNanos() / 1e9, earlier));
        logged = true;
        lastLog = now;
        unlogged = 0;
        stalls++; // after the warning: whoever sees the count can find the line
    }
}
