package io.nfqueue.samples;

import io.nfqueue.Verdict;
import io.nfqueue.reactor.ProcessedPacket;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo's verdict counts, taken from each {@link ProcessedPacket} after its verdict was given:
 * what really happened to the packet, whichever stage decided it. Updated on the receive
 * thread, read by the display.
 */
final class DemoCounters {
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    void count(ProcessedPacket p) {
        Verdict v = p.verdict();
        if (v == null) {
            return; // resolved elsewhere first: the queue closed under it (Ctrl-C, failure)
        }
        // dropFlow may reach the kernel as ACCEPT with the drop value in the mark (a rule drops it): count the decision.
        boolean accept = v.flowDecision().map(f -> f == Verdict.FlowDecision.ACCEPT).orElse(v.kind() == Verdict.Kind.ACCEPT);
        if (accept) {
            accepted.incrementAndGet();
        } else {
            dropped.incrementAndGet();
        }
    }

    long accepted() {
        return accepted.get();
    }

    long dropped() {
        return dropped.get();
    }
}
