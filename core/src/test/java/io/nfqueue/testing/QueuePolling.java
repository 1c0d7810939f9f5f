package io.nfqueue.testing;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.Packet;
import io.nfqueue.PacketHandler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Drives a queue from the test thread until enough packets came, with the wait bounded. */
public final class QueuePolling {
    private static final Duration SLICE = Duration.ofMillis(50);

    private QueuePolling() {
    }

    /**
     * Hands packets to {@code handler} until {@code count} were handled or {@code timeout}
     * passed; returns how many were handled (possibly more than {@code count} if a batch held more).
     */
    public static int handle(NetfilterQueue queue, PacketHandler handler, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int handled = 0;
        while (handled < count && System.nanoTime() < deadline) {
            handled += queue.poll(handler, SLICE);
        }
        return handled;
    }

    /** Collects up to {@code count} packets without giving them a verdict; bounded by {@code timeout}. */
    public static List<Packet> collect(NetfilterQueue queue, int count, Duration timeout) {
        List<Packet> packets = new ArrayList<>();
        handle(queue, packets::add, count, timeout);
        return packets;
    }
}
