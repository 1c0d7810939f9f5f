package io.nfqueue.samples;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintStream;
import java.util.concurrent.Callable;

@Command(name = "dns-block", mixinStandardHelpOptions = true,
        description = {"Drop DNS queries (UDP port 53, IPv4 and IPv6) for names in a blocklist or under them "
                + "(suffix match); accept the rest.",
            "Blocklist: one name a line (example.com), or hosts format (0.0.0.0 example.com www.example.com); "
                + "'#' starts a comment. Lines that are not domain names (*.example.com, http://x.com, "
                + "example.com/path) are skipped and counted in the first line printed; a list with no name is refused."},
        footerHeading = "%nFeed it with, e.g. (both families: an IPv4-only rule lets IPv6 DNS pass unfiltered):%n",
        footer = {"  iptables -A OUTPUT -p udp --dport 53 -j NFQUEUE --queue-num N --queue-bypass",
            "  ip6tables -A OUTPUT -p udp --dport 53 -j NFQUEUE --queue-num N --queue-bypass",
            "  nft add rule inet filter output udp dport 53 queue num N bypass   (the inet family covers both)",
            "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
            "Needs root (CAP_NET_ADMIN; --netns also CAP_SYS_ADMIN)."})
final class DnsBlockCli implements Callable<Integer> {
    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Mixin
    RunOptions common;
    @Mixin
    DnsBlockOptions blocklist;

    DnsBlockCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        common.check(cl);
        blocklist.blocker().sample().runLive(common, out);
        return 0;
    }
}
