package io.nfqueue.samples;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
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
    @Option(names = "--rules", required = true, paramLabel = "FILE", description = "the rules file")
    Path rules;
    @Option(names = "--default", paramLabel = "accept|drop", defaultValue = "accept",
            description = "verdict when no rule matches (default: ${DEFAULT-VALUE})")
    String defaultVerdict;

    FirewallCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        common.check(cl);
        boolean accept = switch (defaultVerdict) {
            case "accept" -> true;
            case "drop" -> false;
            default -> throw new ParameterException(cl, "--default must be accept or drop: " + defaultVerdict);
        };
        FirewallRules r = FirewallRules.load(rules);
        Firewall.run(common.queue, common.netns, r, accept, common.interval, common.duration, out);
        return 0;
    }
}
