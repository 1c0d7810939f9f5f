package io.nfqueue.samples;

import io.nfqueue.QueueOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;

@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"A live view of queue N every --interval. By default it binds the queue itself and accepts "
                + "every packet (a pass-through; what does not fit in the queue the kernel accepts uninspected, so "
                + "watching never cuts traffic), and shows both sides: the kernel's counters (packets waiting for a "
                + "verdict, drops because the queue or the socket buffer was full, the last packet id) and the "
                + "library's (packets received, verdicts sent by kind, unresolved, default verdicts by cause) and the "
                + "backpressure (the kernel max-length, the headroom the subscriber's measured drain rate earns, the "
                + "demand it holds out).",
            "With --read-only it only reads the kernel's line of /proc/net/netfilter/nfnetlink_queue, for a queue "
                + "another program owns (root only: see below)."},
        footerHeading = "%nThe queue is fed by a rule such as:%n",
        footer = {"  iptables -A OUTPUT -p udp --dport 9999 -j NFQUEUE --queue-num N --queue-bypass",
            "  nft add rule inet filter output udp dport 9999 queue num N bypass",
            "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
            "Binding needs root (CAP_NET_ADMIN; --netns also CAP_SYS_ADMIN). --read-only needs no capability but "
                + "read access to /proc/net/netfilter/nfnetlink_queue, which the kernel makes readable by root only "
                + "(mode 0440): run it as root too (with --netns it also needs CAP_SYS_ADMIN, for nsenter)."})
final class StatsCli implements Callable<Integer> {
    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Option(names = "--queue", required = true, paramLabel = "N", description = "queue number, 0..65535")
    int queue;
    @Option(names = "--netns", paramLabel = "PATH",
            description = "the queue of this network namespace, e.g. /var/run/netns/NAME")
    Path netns;
    @Option(names = "--interval", paramLabel = "TIME", defaultValue = "1s",
            description = {"how often to print (default: ${DEFAULT-VALUE}); " + Main.TIME_FORMAT})
    Duration interval;
    @Option(names = "--count", paramLabel = "N", description = "stop after N reports (default: Ctrl-C)")
    Integer count;
    @Option(names = "--read-only", description = "do not bind: only read the kernel's counters")
    boolean readOnly;
    @Option(names = "--demand", paramLabel = "N", defaultValue = "1024",
            description = {"packets to ask for at a time when binding, 1..65536 (default: ${DEFAULT-VALUE}). Demand "
                + "only paces reading: the kernel max-length follows how fast the subscriber drains, so a small window "
                + "(as operators such as concatMap or limitRate ask) still lets bursts through whole."})
    int demand;

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
        if (demand < 1 || demand > 65536) {
            throw new ParameterException(cl, "--demand must be 1..65536: " + demand);
        }
        if (readOnly && cl.getParseResult().hasMatchedOption("--demand")) {
            throw new ParameterException(cl, "--demand needs a bound queue: it cannot go with --read-only");
        }
        long reports = count == null ? Long.MAX_VALUE : count;
        if (readOnly) {
            readOnly(reports);
        } else {
            passthrough(reports);
        }
        return 0;
    }

    private void readOnly(long reports) throws InterruptedException {
        if (netns != null) {
            Samples.checkNetns(netns);
            Privileges.require("CAP_SYS_ADMIN, to read another network namespace's queues with --netns",
                    Privileges.CAP_SYS_ADMIN);
        }
        for (long left = reports; left > 0; left--) {
            out.println(now() + "  " + ProcQueueStats.describe(queue, ProcQueueStats.read(netns, queue)));
            if (left > 1) {
                Thread.sleep(interval.toMillis());
            }
        }
    }

    private void passthrough(long reports) throws InterruptedException {
        QueueOptions options = Samples.requireAndApply(QueueOptions.queue(queue), netns);
        // Bound under Cleanup's lock, which its Ctrl-C hook takes too: a Ctrl-C while binding waits
        // for the bind and then unbinds, giving held packets their verdict; it cannot leave the
        // socket to the kernel, which would drop what it holds.
        try (Cleanup cleanup = new Cleanup(out)) {
            PassthroughStats stats = cleanup.make("unbind queue " + queue,
                    () -> PassthroughStats.start(options, demand), PassthroughStats::close);
            out.println("stats: bound queue " + queue + (netns == null ? "" : " in " + netns)
                    + ", accepting every packet; " + (count == null ? "Ctrl-C to stop" : count + " reports"));
            for (long left = reports; left > 0 && stats.failure() == null && !cleanup.stopping(); left--) {
                Thread.sleep(interval.toMillis());
                out.println(now() + "  queue " + queue);
                stats.report().forEach(out::println);
            }
            if (stats.failure() != null) {
                throw new IllegalStateException("the queue's subscription failed: " + stats.failure(), stats.failure());
            }
        }
    }

    private static String now() {
        return LocalTime.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
