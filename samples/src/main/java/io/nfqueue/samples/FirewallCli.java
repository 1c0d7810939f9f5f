package io.nfqueue.samples;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintStream;
import java.util.concurrent.Callable;

@Command(name = "firewall", mixinStandardHelpOptions = true,
        description = {"Filter a queue's packets with rules from a file, first match wins; per-rule counters are "
                + "printed every --interval.",
            "Rules file, one per line ('#' comments; fields optional):",
            "  accept|drop|mark=0xNN [proto tcp|udp|icmp|any] [src CIDR] [dst CIDR] [dport N[-M]] [sport N[-M]] "
                    + "[dir in|out|any]"},
        footerHeading = "%nFeed it with, e.g.:%n",
        footer = {"  iptables -A INPUT -j NFQUEUE --queue-num N --queue-bypass",
            "  iptables -A OUTPUT -j NFQUEUE --queue-num N --queue-bypass",
            "  nft add rule inet filter input queue num N bypass",
            "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
            "Needs root (CAP_NET_ADMIN; --netns also CAP_SYS_ADMIN)."})
final class FirewallCli implements Callable<Integer> {
    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Mixin
    RunOptions common;
    @Mixin
    FirewallOptions rules;

    FirewallCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        common.check(cl);
        rules.firewall(cl).sample().runLive(common, out);
        return 0;
    }
}
