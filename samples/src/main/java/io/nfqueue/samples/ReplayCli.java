package io.nfqueue.samples;

import io.nfqueue.Hook;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code replay --pcap FILE [--speed ...] [--hook ...] [--out FILE] COMMAND COMMAND-OPTIONS}: a
 * capture through the pipeline a sample command runs live, with that command's own options.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replay a capture (pcap or pcapng, from tcpdump, dumpcap or Wireshark) through the pipeline of "
                + "the firewall or dns-block command, with that command's own options, and print one line per packet "
                + "with the verdict it got, then the counts. The same pipeline function runs as in the live command, on "
                + "the library's real receiver, over the test kit's in-memory queue: no root, no kernel queue, no "
                + "traffic."},
        subcommands = {ReplayCli.FirewallReplay.class, ReplayCli.DnsBlockReplay.class},
        footerHeading = "%nExamples:%n",
        footer = {"  replay --pcap capture.pcap firewall --rules rules.txt",
            "  replay --pcap dns.pcapng --hook OUTPUT --out verdicts.pcapng dns-block --blocklist hosts",
            "Records that hold no IP packet (ARP, ...) are listed as skipped. With --out, the packets are written to a "
                + "pcapng file with each verdict as the packet comment (Wireshark: Statistics > Capture File "
                + "Properties, or the 'frame.comment' field)."})
final class ReplayCli implements Callable<Integer> {
    /** iptables chain names, for --hook. */
    private static final Map<String, Hook> CHAINS = Map.of("PREROUTING", Hook.PRE_ROUTING, "INPUT", Hook.LOCAL_IN,
            "FORWARD", Hook.FORWARD, "OUTPUT", Hook.LOCAL_OUT, "POSTROUTING", Hook.POST_ROUTING);

    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    // Checked in replay() rather than by picocli, which would refuse 'replay firewall --help' without it.
    @Option(names = "--pcap", paramLabel = "FILE", description = "the capture file: pcap or pcapng (required)")
    Path pcap;
    @Option(names = "--speed", paramLabel = "max|recorded|FACTOR", defaultValue = "max",
            description = {"max: every packet at once (default); recorded: with the gaps the capture recorded, in real "
                + "time; a factor such as 10 or 0.5: the recorded gaps divided by it"})
    String speed;
    @Option(names = "--hook", paramLabel = "HOOK",
            description = {"the hook every packet is queued at, as the rule that feeds the command would queue it: "
                + "PRE_ROUTING, LOCAL_IN, FORWARD, LOCAL_OUT, POST_ROUTING or a chain name (INPUT, OUTPUT, ...). "
                + "Default: from the direction the capture records (tcpdump -i any, pcapng): received LOCAL_IN, sent "
                + "LOCAL_OUT, unknown LOCAL_IN"})
    String hook;
    @Option(names = "--out", paramLabel = "FILE", description = "also write the packets with their verdicts to this pcapng file")
    Path outFile;

    ReplayCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "a command to replay through is required: firewall or dns-block");
    }

    /** Runs the replay through {@code sample}, with this command's options. */
    int replay(SamplePipeline sample) throws InterruptedException {
        CommandLine cl = spec.commandLine();
        if (pcap == null) {
            throw new ParameterException(cl, "--pcap FILE is required: the capture to replay");
        }
        new ReplayRun(pcap, parseSpeed(cl, speed), hook == null ? null : parseHook(cl, hook), outFile).run(sample, out);
        return 0;
    }

    /** "max": 0; "recorded": 1; else a positive factor. */
    static double parseSpeed(CommandLine cl, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("max")) {
            return 0;
        }
        if (t.equals("recorded")) {
            return 1;
        }
        try {
            double factor = Double.parseDouble(t);
            if (factor > 0 && !Double.isInfinite(factor)) {
                return factor;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new ParameterException(cl, "--speed must be max, recorded or a positive factor such as 10 or 0.5: " + text);
    }

    /** A hook name (LOCAL_OUT) or an iptables chain name (OUTPUT), in any case. */
    static Hook parseHook(CommandLine cl, String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        if (CHAINS.containsKey(t)) {
            return CHAINS.get(t);
        }
        for (Hook h : Hook.values()) {
            if (h != Hook.UNKNOWN && h.name().equals(t)) {
                return h;
            }
        }
        throw new ParameterException(cl, "--hook must be PRE_ROUTING, LOCAL_IN, FORWARD, LOCAL_OUT or POST_ROUTING "
                + "(or a chain: PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING): " + text);
    }

    @Command(name = "firewall", mixinStandardHelpOptions = true,
            description = {"Replay the capture through the firewall (its options as for 'firewall', without --queue).",
                "Rules file, one per line ('#' comments; fields optional):",
                "  accept|drop|mark=0xNN [proto tcp|udp|icmp|any] [src CIDR] [dst CIDR] [dport N[-M]] [sport N[-M]] "
                    + "[dir in|out|any]"})
    static final class FirewallReplay implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @ParentCommand
        ReplayCli replay;
        @Mixin
        FirewallOptions rules;

        @Override
        public Integer call() throws InterruptedException {
            return replay.replay(rules.firewall(spec.commandLine()).sample());
        }
    }

    @Command(name = "dns-block", mixinStandardHelpOptions = true,
            description = {"Replay the capture through dns-block (its options as for 'dns-block', without --queue)."})
    static final class DnsBlockReplay implements Callable<Integer> {
        @ParentCommand
        ReplayCli replay;
        @Mixin
        DnsBlockOptions blocklist;

        @Override
        public Integer call() throws InterruptedException {
            return replay.replay(blocklist.blocker().sample());
        }
    }
}
