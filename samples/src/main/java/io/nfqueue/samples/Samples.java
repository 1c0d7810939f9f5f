package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.PacketHandler;
import io.nfqueue.QueueOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** What the long-running commands share: privilege checks, the poll loop, the Ctrl-C hook. */
final class Samples {
    private static final Duration SLICE = Duration.ofMillis(200);

    private Samples() {
    }

    /** Checks the privileges the command needs and applies {@code --netns} (null: none). */
    static QueueOptions requireAndApply(String command, QueueOptions options, Path netns) {
        if (netns != null) {
            if (!Files.exists(netns)) {
                throw new UsageException(command + ": no network namespace at " + netns);
            }
            Privileges.require(command + " --netns", "CAP_NET_ADMIN and CAP_SYS_ADMIN, to bind a queue in another "
                    + "network namespace", Privileges.CAP_NET_ADMIN, Privileges.CAP_SYS_ADMIN);
            return options.networkNamespace(netns);
        }
        Privileges.require(command, "CAP_NET_ADMIN, to bind a queue", Privileges.CAP_NET_ADMIN);
        return options;
    }

    /**
     * Polls {@code queue} in slices until {@code duration} passes (null: until the queue is closed
     * or the thread interrupted), running {@code tick} every {@code interval}.
     */
    static void pollLoop(NetfilterQueue queue, PacketHandler handler, Duration interval, Duration duration,
                         Runnable tick) {
        long start = System.nanoTime();
        long end = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
        long nextTick = start + interval.toNanos();
        while (!Thread.currentThread().isInterrupted() && !queue.handle().isClosed()) {
            long now = System.nanoTime();
            if (duration != null && now - end >= 0) {
                break;
            }
            try {
                queue.poll(handler, SLICE);
            } catch (IllegalStateException e) {
                break;   // closed (Ctrl-C)
            }
            now = System.nanoTime();
            if (now - nextTick >= 0) {
                tick.run();
                nextTick = now + interval.toNanos();
            }
        }
    }

    /**
     * Binds {@code common.queue} (default verdict ACCEPT: what the program does not decide passes),
     * prints {@code banner}, polls with {@code handler} until the duration passes or Ctrl-C, printing
     * {@code report} every interval and once at the end.
     */
    static void runPolling(String command, RunOptions common, PacketHandler handler, String banner,
                           java.util.function.Supplier<String> report, java.io.PrintStream out) {
        QueueOptions options = requireAndApply(command,
                QueueOptions.queue(common.queue).defaultVerdict(io.nfqueue.Verdict.accept()), common.netns);
        NetfilterQueue q = NetfilterQueue.open(options);
        Thread onCtrlC = new Thread(q::close, "nfq-" + command + "-close");
        Runtime.getRuntime().addShutdownHook(onCtrlC);
        try {
            out.println(command + " on queue " + common.queue + common.where() + ": " + banner);
            pollLoop(q, handler, common.interval, common.duration, () -> out.println(report.get()));
        } finally {
            q.close();
            removeHook(onCtrlC);
        }
        out.println(report.get());
    }

    static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // Shutting down (Ctrl-C): the hook closes the queue.
        }
    }
}
