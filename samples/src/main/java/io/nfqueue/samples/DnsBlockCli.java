package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "dns-block", mixinStandardHelpOptions = true,
        description = {"Drop DNS queries (UDP port 53) for names in a blocklist or under them (suffix match); "
                + "accept the rest. Blocklist: one name per line, '#' comments."},
        footerHeading = "%nFeed it with, e.g.:%n",
        footer = {"  iptables -A OUTPUT -p udp --dport 53 -j NFQUEUE --queue-num N --queue-bypass",
            "  nft add rule inet filter output udp dport 53 queue num N bypass",
            "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
            "Needs root (CAP_NET_ADMIN; --netns also CAP_SYS_ADMIN)."})
final class DnsBlockCli implements Callable<Integer> {
    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Option(names = "--queue", required = true, paramLabel = "N", description = "queue number, 0..65535")
    int queue;
    @Option(names = "--blocklist", required = true, paramLabel = "FILE", description = "names to block")
    Path blocklist;
    @Option(names = "--interval", paramLabel = "TIME", defaultValue = "5s",
            description = "how often to print the counters (default: ${DEFAULT-VALUE})")
    Duration interval;
    @Option(names = "--duration", paramLabel = "TIME", description = "stop after this long (default: Ctrl-C)")
    Duration duration;
    @Option(names = "--netns", paramLabel = "PATH",
            description = "bind in this network namespace, e.g. /var/run/netns/NAME")
    Path netns;

    DnsBlockCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        Main.checkQueue(cl, queue);
        if (interval.compareTo(Duration.ofMillis(100)) < 0) {
            throw new ParameterException(cl, "--interval must be at least 100ms");
        }
        DnsBlocker blocker = DnsBlocker.load(blocklist);
        QueueOptions options = Samples.requireAndApply("dns-block",
                QueueOptions.queue(queue).defaultVerdict(Verdict.accept()), netns);
        NetfilterQueue q = NetfilterQueue.open(options);
        Thread onCtrlC = new Thread(q::close, "nfq-dns-block-close");
        Runtime.getRuntime().addShutdownHook(onCtrlC);
        try {
            out.println("dns-block on queue " + queue + (netns == null ? "" : " in " + netns) + ": "
                    + blocker.report());
            Samples.pollLoop(q, blocker, interval, duration, () -> out.println(blocker.report()));
        } finally {
            q.close();
            Samples.removeHook(onCtrlC);
        }
        out.println(blocker.report());
        return 0;
    }
}
