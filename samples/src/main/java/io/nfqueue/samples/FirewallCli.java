package io.nfqueue.samples;

import io.nfqueue.FlowOffload;
import io.nfqueue.FlowRules;
import io.nfqueue.Hook;
import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintStream;
import java.util.concurrent.Callable;

@Command(name = "firewall", mixinStandardHelpOptions = true,
        description = {"Filter a queue's packets with rules from a file, first match wins; per-rule counters are "
                + "printed every --interval.",
            "Rules file, one per line ('#' comments; fields optional):",
            "  accept|drop|mark=0xNN [proto tcp|udp|icmp|any] [src CIDR] [dst CIDR] [dport N[-M]] [sport N[-M]] "
                    + "[dir in|out|any]",
            "With --per-flow each connection is decided on its first packet (acceptFlow/dropFlow) and its later "
                + "packets pass or die in the kernel: the firewall installs the flow offload rules for --hook itself "
                + "(iptables, mangle chain NFQ-FLOW-N; see the rules command), removes them on exit, and counts what "
                + "reached the queue and what the rules carried without it. Give no feed rule of your own then. "
                + "mark= rules stay per packet. A dropped connection stays in the kernel only if conntrack confirmed "
                + "it before the hook (loopback on input); elsewhere its packets keep coming and are dropped again."},
        footerHeading = "%nFeed it with, e.g.:%n",
        footer = {"  iptables -A INPUT -j NFQUEUE --queue-num N --queue-bypass",
            "  iptables -A OUTPUT -j NFQUEUE --queue-num N --queue-bypass",
            "  nft add rule inet filter input queue num N bypass",
            "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
            "  or, with --per-flow, nothing: it installs its own rules",
            "Needs root (CAP_NET_ADMIN; --netns also CAP_SYS_ADMIN)."})
final class FirewallCli implements Callable<Integer> {
    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Mixin
    RunOptions common;
    @Mixin
    FirewallOptions rules;
    @Option(names = "--per-flow", description = "decide each connection on its first packet (flow offload)")
    boolean perFlow;
    @Option(names = "--hook", paramLabel = "HOOK", defaultValue = "input",
            description = "with --per-flow: the hook whose packets are queued, " + FlowSetup.HOOK_NAMES
                    + " (default: ${DEFAULT-VALUE})")
    String hook;
    @Option(names = "--mask", paramLabel = "0xMASK", defaultValue = "0x300000",
            description = "with --per-flow: the mark bits for flow decisions, at least two (default: ${DEFAULT-VALUE})")
    String mask;
    @Option(names = "--mode", paramLabel = "accept|repeat", defaultValue = "accept",
            description = "with --per-flow: how the mark reaches the connection (default: ${DEFAULT-VALUE}; "
                    + "prerouting and postrouting need repeat)")
    String mode;

    FirewallCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        common.check(cl);
        if (!perFlow) {
            if (cl.getParseResult().hasMatchedOption("--hook") || cl.getParseResult().hasMatchedOption("--mask")
                    || cl.getParseResult().hasMatchedOption("--mode")) {
                throw new ParameterException(cl, "--hook, --mask and --mode go with --per-flow");
            }
            rules.firewall(cl).sample().runLive(common, out);
            return 0;
        }
        FlowOffload offload;
        FlowRules flowRules;
        try {
            offload = FlowSetup.offload(mask, mode);
            Hook h = FlowSetup.hook(hook);
            flowRules = FlowRules.forQueue(common.queue).hook(h).offload(offload);
            flowRules.iptables();   // refuses accept mode on prerouting/postrouting
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        } catch (IllegalStateException e) {
            throw new ParameterException(cl, "--mode accept cannot copy the mark on " + hook + " with iptables: "
                    + "use --mode repeat");
        }
        Firewall fw = rules.firewall(cl, true);
        runPerFlow(fw, flowRules, offload);
        return 0;
    }

    /**
     * Probes the kernel (binds the queue for a moment: can it set the connection mark from the
     * verdict?), installs the rules that this answer needs, runs the firewall per flow and removes
     * the rules at the end, also on Ctrl-C.
     */
    private void runPerFlow(Firewall fw, FlowRules flowRules, FlowOffload offload) throws InterruptedException {
        // Before the probe and the rules: once they are in, the rules' traffic waits for the queue.
        ReceiverRun.warmUp("firewall", PacketReceiver.create(ReceiverOptions.queue(common.queue)
                .queueOptions(o -> o.flowOffload(offload))), common.warmUp, out);
        QueueOptions probeOptions = Samples.requireAndApply(QueueOptions.queue(common.queue).flowOffload(offload),
                common.netns);
        boolean byVerdict;
        try (NetfilterQueue probe = NetfilterQueue.open(probeOptions)) {
            byVerdict = probe.connmarkByVerdict();
        }
        out.println(FlowSetup.connmarkLine(byVerdict));
        FlowRules.RuleSet set = flowRules.connmarkByVerdict(byVerdict).iptables();
        try (Cleanup cleanup = new Cleanup(out)) {
            FlowSetup.Installed installed = cleanup.make("remove the flow rules", () -> FlowSetup.Installed.install(set,
                    common.queue, offload, common.netns), r -> {
                        r.remove();
                        out.println("removed the flow offload rules (chain NFQ-FLOW-" + common.queue + ")");
                    });
            out.println("installed " + Main.count(set.install().size(), "flow offload command") + common.where()
                    + " (print them with: rules --flow-offload --queue " + common.queue + " --hook " + hook + " --mask "
                    + mask + " --mode " + mode + (byVerdict ? " --connmark-by-verdict" : "") + ")");
            SamplePipeline base = fw.sample();
            SamplePipeline sample = new SamplePipeline(base.command(), base.pipeline(), base.defaultVerdict(),
                    base.banner(), () -> fw.report() + "\n  flow rules: " + installed.counts().describe());
            sample.runLive(common, o -> o.flowOffload(offload), 0, out);
        }
    }
}
