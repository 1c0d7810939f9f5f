package io.nfqueue.samples;

import io.nfqueue.QueueStats;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Print the kernel's counters for queue N (its line of /proc/net/netfilter/nfnetlink_queue) "
                + "every --interval: packets waiting for a verdict, drops because the queue was full or the "
                + "socket buffer was, the last packet id. It reads; it does not bind the queue."},
        footerHeading = "%nThe queue is fed by a rule such as:%n",
        footer = {"  iptables -A OUTPUT -p udp --dport 9999 -j NFQUEUE --queue-num N --queue-bypass",
            "  nft add rule inet filter output udp dport 9999 queue num N bypass",
            "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
            "Reading the file needs no privilege; --netns needs root (nsenter, CAP_SYS_ADMIN)."})
final class StatsCli implements Callable<Integer> {
    static final Path PROC = Path.of("/proc/net/netfilter/nfnetlink_queue");
    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Option(names = "--queue", required = true, paramLabel = "N", description = "queue number, 0..65535")
    int queue;
    @Option(names = "--netns", paramLabel = "PATH",
            description = "read the queue of this network namespace, e.g. /var/run/netns/NAME")
    Path netns;
    @Option(names = "--interval", paramLabel = "TIME", defaultValue = "1s",
            description = "how often to print (default: ${DEFAULT-VALUE})")
    Duration interval;
    @Option(names = "--count", paramLabel = "N", description = "stop after N lines (default: Ctrl-C)")
    Integer count;

    StatsCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        Main.checkQueue(cl, queue);
        if (interval.compareTo(Duration.ofMillis(100)) < 0) {
            throw new ParameterException(cl, "--interval must be at least 100ms");
        }
        if (count != null && count < 1) {
            throw new ParameterException(cl, "--count must be at least 1: " + count);
        }
        if (netns != null) {
            if (!Files.exists(netns)) {
                throw new UsageException("stats: no network namespace at " + netns);
            }
            Privileges.require("stats --netns", "CAP_SYS_ADMIN, to read another network namespace's queues",
                    Privileges.CAP_SYS_ADMIN);
        }
        long left = count == null ? Long.MAX_VALUE : count;
        while (left-- > 0) {
            out.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "  " + describe(queue, read(netns, queue)));
            if (left > 0) {
                Thread.sleep(interval.toMillis());
            }
        }
        return 0;
    }

    /** The queue's line in the proc file of {@code netns} (null: this process's namespace). */
    static Optional<QueueStats> read(Path netns, int queue) {
        String text;
        if (netns == null) {
            if (!Files.exists(PROC)) {
                throw new IllegalStateException(PROC + " does not exist: is the nfnetlink_queue module loaded?");
            }
            try {
                text = Files.readString(PROC);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + PROC + ": " + e.getMessage(), e);
            }
        } else {
            text = io.nfqueue.samples.Command.run("nsenter", "--net=" + netns, "cat", PROC.toString());
        }
        return find(text.lines().toList(), queue);
    }

    static Optional<QueueStats> find(List<String> lines, int queue) {
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            QueueStats s = QueueStats.parse(line);
            if (s.queueNumber() == queue) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    static String describe(int queue, Optional<QueueStats> stats) {
        if (stats.isEmpty()) {
            return "queue " + queue + ": not bound";
        }
        QueueStats k = stats.get();
        return "queue " + k.queueNumber() + ": port id " + k.portId() + ", " + k.queued()
                + " waiting for a verdict, copy mode " + k.copyMode() + " range " + k.copyRange() + ", "
                + k.queueDropped() + " dropped (queue full), " + k.userDropped() + " dropped (socket full), last id "
                + k.lastPacketId();
    }
}
