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
        if (v.kind() == Verdict.Kind.ACCEPT) {
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
