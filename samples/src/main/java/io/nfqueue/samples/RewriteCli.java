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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "rewrite", mixinStandardHelpOptions = true,
        description = {"Replace every occurrence of --from with --to (UTF-8 strings) in UDP payloads; IP and UDP "
                + "lengths and checksums are fixed. Other packets pass unchanged."},
        footerHeading = "%nFeed it with, e.g.:%n",
        footer = {"  iptables -A OUTPUT -p udp --dport 9999 -j NFQUEUE --queue-num N --queue-bypass",
            "  nft add rule inet filter output udp dport 9999 queue num N bypass",
            "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
            "Needs root (CAP_NET_ADMIN; --netns also CAP_SYS_ADMIN)."})
final class RewriteCli implements Callable<Integer> {
    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Option(names = "--queue", required = true, paramLabel = "N", description = "queue number, 0..65535")
    int queue;
    @Option(names = "--from", required = true, paramLabel = "STR", description = "the bytes to replace (not empty)")
    String from;
    @Option(names = "--to", required = true, paramLabel = "STR", description = "what to put instead")
    String to;
    @Option(names = "--interval", paramLabel = "TIME", defaultValue = "5s",
            description = "how often to print the counters (default: ${DEFAULT-VALUE})")
    Duration interval;
    @Option(names = "--duration", paramLabel = "TIME", description = "stop after this long (default: Ctrl-C)")
    Duration duration;
    @Option(names = "--netns", paramLabel = "PATH",
            description = "bind in this network namespace, e.g. /var/run/netns/NAME")
    Path netns;

    RewriteCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        Main.checkQueue(cl, queue);
        if (from.isEmpty()) {
            throw new ParameterException(cl, "--from must not be empty");
        }
        if (interval.compareTo(Duration.ofMillis(100)) < 0) {
            throw new ParameterException(cl, "--interval must be at least 100ms");
        }
        Rewriter rewriter = new Rewriter(from.getBytes(StandardCharsets.UTF_8), to.getBytes(StandardCharsets.UTF_8));
        QueueOptions options = Samples.requireAndApply("rewrite",
                QueueOptions.queue(queue).defaultVerdict(Verdict.accept()), netns);
        NetfilterQueue q = NetfilterQueue.open(options);
        Thread onCtrlC = new Thread(q::close, "nfq-rewrite-close");
        Runtime.getRuntime().addShutdownHook(onCtrlC);
        try {
            out.println("rewrite on queue " + queue + (netns == null ? "" : " in " + netns) + ": '" + from + "' -> '"
                    + to + "'");
            Samples.pollLoop(q, rewriter, interval, duration, () -> out.println(rewriter.report()));
        } finally {
            q.close();
            Samples.removeHook(onCtrlC);
        }
        out.println(rewriter.report());
        return 0;
    }
}
