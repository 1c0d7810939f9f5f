package io.nfqueue.samples;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
    @Mixin
    RunOptions common;
    @Option(names = "--from", required = true, paramLabel = "STR", description = "the bytes to replace (not empty)")
    String from;
    @Option(names = "--to", required = true, paramLabel = "STR", description = "what to put instead")
    String to;

    RewriteCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        common.check(cl);
        if (from.isEmpty()) {
            throw new ParameterException(cl, "--from must not be empty");
        }
        Rewriter rewriter = new Rewriter(from.getBytes(StandardCharsets.UTF_8), to.getBytes(StandardCharsets.UTF_8));
        Samples.runPolling("rewrite", Rewriter.queueOptions(common.queue), common,
                rewriter, () -> "'" + from + "' -> '" + to + "'", rewriter::report, out);
        return 0;
    }
}
