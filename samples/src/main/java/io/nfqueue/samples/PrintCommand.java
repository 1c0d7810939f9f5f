package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The seed's example as a command: binds a queue, prints one line per packet and accepts it,
 * until {@code count} packets or Ctrl-C. Packets it has not handled when it stops are accepted
 * too (default verdict ACCEPT): a printer should not cut traffic as it exits.
 */
final class PrintCommand {
    private PrintCommand() {
    }

    /** Returns how many packets it printed. */
    static long run(int queueNumber, Path netns, long count, PrintStream out) {
        QueueOptions options = Samples.requireAndApply(queueOptions(queueNumber), netns);
        long[] seen = {0};
        NetfilterQueue queue = NetfilterQueue.open(options);
        try (FinalReport last = new FinalReport("print", queue::close,
                () -> out.println(Main.count(seen[0], "packet") + " printed"))) {
            try {
                out.println("bound queue " + queueNumber + (netns == null ? "" : " in " + netns)
                        + "; printing packets" + (count == Long.MAX_VALUE ? " until Ctrl-C" : " (" + count + ")"));
                print(queue, count, seen, out);
            } finally {
                queue.close();
            }
            last.print();
        }
        return seen[0];
    }

    /** How the printer binds: what it has not handled when it stops is accepted. */
    static QueueOptions queueOptions(int queueNumber) {
        return QueueOptions.queue(queueNumber).defaultVerdict(Verdict.accept());
    }

    /**
     * Prints and accepts packets until {@code count} of them (counted in {@code seen[0]}), then
     * closes the queue, or until the queue is closed or the thread interrupted. The rest of the
     * last batch gets the default verdict as the queue closes.
     */
    static void print(NetfilterQueue queue, long count, long[] seen, PrintStream out) {
        queue.run(packet -> {
            if (seen[0] >= count) {
                return;   // more of the last batch: the default verdict (accept) takes them
            }
            out.println(line(packet));
            packet.accept();
            if (++seen[0] >= count) {
                queue.close();
            }
        });
    }

    /** The packet's one-line description, IPv6 addresses in their short form ([::1], not [0:0:0:0:0:0:0:1]). */
    static String line(Packet packet) {
        return AddressText.compactIpv6(packet.toString());
    }
}
