package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.PacketHandler;
import io.nfqueue.QueueOptions;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

/** What the long-running commands share: privilege checks, the poll loop, the Ctrl-C hook. */
final class Samples {
    private static final Duration SLICE = Duration.ofMillis(200);

    private Samples() {
    }

    /** Checks the privileges the command needs and applies {@code --netns} (null: none). */
    static QueueOptions requireAndApply(QueueOptions options, Path netns) {
        if (netns != null) {
            checkNetns(netns);
            Privileges.require("CAP_NET_ADMIN and CAP_SYS_ADMIN, to bind a queue in another network namespace "
                    + "with --netns", Privileges.CAP_NET_ADMIN, Privileges.CAP_SYS_ADMIN);
            return options.networkNamespace(netns);
        }
        Privileges.require("CAP_NET_ADMIN, to bind a queue", Privileges.CAP_NET_ADMIN);
        return options;
    }

    /**
     * Refuses a --netns path that is missing or a directory (a bad command line). Whether a file
     * is a network namespace file is for the library (when binding) or nsenter to say.
     */
    static void checkNetns(Path netns) {
        if (Files.notExists(netns)) {
            throw new UsageException("--netns: no network namespace at " + netns
                    + " (make one with 'ip netns add NAME' and use /var/run/netns/NAME)");
        }
        if (Files.isDirectory(netns)) {
            throw new UsageException("--netns: " + netns + " is a directory, not a network namespace file "
                    + "(such as /var/run/netns/NAME or /proc/PID/ns/net)");
        }
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
     * Binds {@code options} (after the privilege and --netns checks), prints {@code banner}, polls
     * with {@code handler} until the duration passes or Ctrl-C/SIGTERM, printing {@code report}
     * every interval and once at the end, also on a signal ({@link FinalReport}).
     */
    static void runPolling(String command, QueueOptions options, RunOptions common, PacketHandler handler,
                           Supplier<String> banner, Supplier<String> report, PrintStream out) {
        QueueOptions checked = requireAndApply(options, common.netns);
        if (common.warmUp > 0) {
            // The handler counts what it sees: the warm-up accepts instead (it shares all but poll's own loop).
            Duration took = NetfilterQueue.warmUp(checked, common.warmUp);
            out.println(command + ": warmed up on " + common.warmUp + " synthetic packets in " + took.toMillis() + " ms");
        }
        NetfilterQueue q = NetfilterQueue.open(checked);
        try (FinalReport last = new FinalReport(command, q::close, () -> out.println(report.get()))) {
            try {
                out.println(command + " on queue " + common.queue + common.where() + ": " + banner.get());
                pollLoop(q, handler, common.interval, common.duration, () -> out.println(report.get()));
            } finally {
                q.close();
            }
            last.print();
        }
    }
}
