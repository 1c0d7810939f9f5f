package io.nfqueue.test.kernel;

import io.nfqueue.QueueStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's list of bound queues in a namespace ({@code /proc/net/netfilter/nfnetlink_queue}),
 * read by {@code cat} run inside it rather than through the library, so that a test does not
 * take the library's word about itself: for instance that nothing waits for a verdict any more.
 *
 * <pre>{@code
 * QueueStats line = KernelQueues.find(ns, 1).orElseThrow();
 * assertEquals(0, line.queued());        // nothing waits for a verdict
 * assertTrue(KernelQueues.find(ns, 1).isEmpty());   // after close: unbound
 * }</pre>
 */
public final class KernelQueues {
    private KernelQueues() {
    }

    /** Every line of {@code /proc/net/netfilter/nfnetlink_queue} in {@code ns}, parsed. */
    public static List<QueueStats> all(NetNamespace ns) {
        Commands.Result r = Commands.tryRun("ip", "netns", "exec", ns.name(), "cat", "/proc/net/netfilter/nfnetlink_queue");
        List<QueueStats> result = new ArrayList<>();
        if (r.exitCode() != 0) {
            return result; // no file: nfnetlink_queue is not loaded, so nothing is bound
        }
        for (String line : r.output().split("\n")) {
            if (!line.isBlank()) {
                result.add(QueueStats.parse(line));
            }
        }
        return result;
    }

    /** The line of queue {@code number} in {@code ns}, if it is bound. */
    public static Optional<QueueStats> find(NetNamespace ns, int number) {
        return all(ns).stream().filter(s -> s.queueNumber() == number).findFirst();
    }
}
