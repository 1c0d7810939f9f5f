package io.nfqueue.samples;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
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
    @Mixin
    RunOptions common;
    @Option(names = "--blocklist", required = true, paramLabel = "FILE", description = "names to block")
    Path blocklist;

    DnsBlockCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        common.check(cl);
        DnsBlocker blocker = DnsBlocker.load(blocklist);
        Samples.runPolling("dns-block", common, blocker, blocker.report(), blocker::report, out);
        return 0;
    }
}
