package io.nfqueue.samples;

import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;
import io.nfqueue.reactor.PacketReceiver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Reads the demo's counters (its own, the firewall's, the rate limiter's, the library's and the
 * kernel's) into {@link DemoFrame}s, and the packet rate between two frames. Used by one thread.
 */
final class DemoWatch {
    private final PacketReceiver receiver;
    private final FirewallThenLimiter policy;
    private final DemoCounters counters;
    private final String where;
    private final long seconds;
    private final Supplier<Optional<FlowSetup.Counts>> flows;
    private final long start = System.nanoTime();
    private long lastSeen;
    private long lastTime = start;
    private long end;

    DemoWatch(PacketReceiver receiver, FirewallThenLimiter policy, DemoCounters counters, String where,
              Duration duration) {
        this(receiver, policy, counters, where, duration, Optional::empty);
    }

    /** {@code flows}: the flow rules' counters, with flow offload. */
    DemoWatch(PacketReceiver receiver, FirewallThenLimiter policy, DemoCounters counters, String where,
              Duration duration, Supplier<Optional<FlowSetup.Counts>> flows) {
        this.flows = flows;
        this.receiver = receiver;
        this.policy = policy;
        this.counters = counters;
        this.where = where;
        this.seconds = duration.toSeconds();
    }

    /** Marks the end of the traffic, for the final frame's average rate. */
    void trafficOver() {
        end = System.nanoTime();
    }

    /** The counters now; {@code done}: the final frame, with the average rate over the run. */
    DemoFrame frame(boolean done) {
        // Read against the order a packet is counted in (kernel, library, firewall and limiter,
        // verdict), so that a packet counted in one is counted in those read after it: a frame
        // never shows more verdicts than packets seen, nor more seen than the kernel queued.
        long accepted = counters.accepted();
        long dropped = counters.dropped();
        long rateLimited = policy.limiter().limited.get();
        List<Long> hits = new ArrayList<>();
        for (FirewallRules.Rule r : policy.firewall().rules().rules()) {
            hits.add(r.hits().get());
        }
        long defaultHits = policy.firewall().defaultHits();
        long seen = Demo.first(receiver.counters()).map(QueueCounters::received).orElse(0L);
        Optional<QueueStats> kernel = Demo.first(receiver.stats());
        Optional<FlowSetup.Counts> flowCounts = flows.get();

        long now = done ? end : System.nanoTime();
        long since = done ? start : lastTime;
        long perSecond = now > since ? (seen - (done ? 0 : lastSeen)) * 1_000_000_000L / (now - since) : 0;
        lastSeen = seen;
        lastTime = now;
        return new DemoFrame(Math.min(seconds, (now - start) / 1_000_000_000L), seconds, done, where, seen,
                accepted, dropped, perSecond, hits, defaultHits, rateLimited, policy.limiter().sources(), kernel, flowCounts);
    }
}
