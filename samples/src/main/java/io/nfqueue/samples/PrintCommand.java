package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;

import java.io.PrintStream;
import java.nio.file.Files;
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
        QueueOptions options = QueueOptions.queue(queueNumber).defaultVerdict(Verdict.accept());
        if (netns != null) {
            if (!Files.exists(netns)) {
                throw new UsageException("print: no network namespace at " + netns);
            }
            Privileges.require("print --netns", "CAP_NET_ADMIN and CAP_SYS_ADMIN, to bind a queue in another "
                    + "network namespace", Privileges.CAP_NET_ADMIN, Privileges.CAP_SYS_ADMIN);
            options = options.networkNamespace(netns);
        } else {
            Privileges.require("print", "CAP_NET_ADMIN, to bind a queue", Privileges.CAP_NET_ADMIN);
        }
        long[] seen = {0};
        NetfilterQueue queue = NetfilterQueue.open(options);
        Thread onCtrlC = new Thread(queue::close, "nfq-print-close");
        Runtime.getRuntime().addShutdownHook(onCtrlC);
        try {
            out.println("bound queue " + queueNumber + (netns == null ? "" : " in " + netns)
                    + "; printing packets" + (count == Long.MAX_VALUE ? " until Ctrl-C" : " (" + count + ")"));
            queue.run(packet -> {
                if (seen[0] >= count) {
                    return;   // more of the last batch: the default verdict (accept) takes them
                }
                out.println(packet);
                packet.accept();
                if (++seen[0] >= count) {
                    queue.close();
                }
            });
        } finally {
            queue.close();
            try {
                Runtime.getRuntime().removeShutdownHook(onCtrlC);
            } catch (IllegalStateException e) {
                // Shutting down (Ctrl-C): the hook closes the queue.
            }
        }
        out.println(seen[0] + " packets printed");
        return seen[0];
    }
}
