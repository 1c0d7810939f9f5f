package io.nfqueue.samples;

import io.nfqueue.FlowOffload;
import io.nfqueue.FlowRules;
import io.nfqueue.Hook;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the flow-offload samples share ({@code rules --flow-offload}, {@code firewall --per-flow},
 * {@code demo --flow-offload}): hook names and masks as the command line writes them, running
 * {@link FlowRules}' commands (in another network namespace with {@code nsenter --net=PATH}), and
 * reading the rules' packet counters, which say how many packets the flows carried without the
 * queue.
 *
 * <p>The counters come from {@code iptables -t mangle -S NFQ-FLOW-<queue> -v} (and ip6tables):
 * the rules count every packet they take, whatever the connection tracking accounting setting,
 * so they are the reliable number; conntrack accounting is off by default.
 */
final class FlowSetup {
    static final String HOOK_NAMES = "input, output, forward, prerouting or postrouting";
    private static final Pattern COUNTED = Pattern.compile(
            "-m connmark --mark (0x[0-9a-f]+)/(0x[0-9a-f]+) -c (\\d+) (\\d+) -j (\\S+)");

    private FlowSetup() {
    }

    /** "input" and the others (any case) as a {@link Hook}; anything else an IllegalArgumentException naming the choices. */
    static Hook hook(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "input" -> Hook.LOCAL_IN;
            case "output" -> Hook.LOCAL_OUT;
            case "forward" -> Hook.FORWARD;
            case "prerouting" -> Hook.PRE_ROUTING;
            case "postrouting" -> Hook.POST_ROUTING;
            default -> throw new IllegalArgumentException("--hook must be " + HOOK_NAMES + ": '" + name + "'");
        };
    }

    /** "accept" or "repeat" as a {@link FlowOffload.Mode}. */
    static FlowOffload.Mode mode(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "accept" -> FlowOffload.Mode.ACCEPT;
            case "repeat" -> FlowOffload.Mode.REPEAT;
            default -> throw new IllegalArgumentException("--mode must be accept or repeat: '" + name + "'");
        };
    }

    /** A mask (0x-hex or decimal, 32 bits, at least two bits set) and mode as a {@link FlowOffload}. */
    static FlowOffload offload(String mask, String mode) {
        long m;
        try {
            String t = mask.trim();
            m = t.startsWith("0x") || t.startsWith("0X") ? Long.parseLong(t.substring(2), 16) : Long.parseLong(t);
        } catch (NumberFormatException e) {
            m = -1;
        }
        if (m < 0 || m > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("--mask must be a 32-bit number like 0x300000: '" + mask + "'");
        }
        if (Long.bitCount(m) < 2) {
            throw new IllegalArgumentException("--mask " + mask + " needs at least two bits set: the lowest marks "
                    + "accepted flows, the next dropped flows (e.g. 0x300000)");
        }
        return FlowOffload.mask((int) m).mode(mode(mode));
    }

    /** The line a flow-offload command prints about the GLUE_CT probe. */
    static String connmarkLine(boolean byVerdict) {
        return "connection mark set by: " + (byVerdict ? "verdict (GLUE_CT)" : "rules (no GLUE_CT on this kernel)");
    }

    /** {@code argv} as run: directly, or inside the namespace file {@code netns} with nsenter. */
    static List<String> inNamespace(Path netns, List<String> argv) {
        if (netns == null) {
            return argv;
        }
        List<String> all = new ArrayList<>(List.of("nsenter", "--net=" + netns));
        all.addAll(argv);
        return all;
    }

    /** Runs one rule's command in the namespace, then echoes it to {@code log} (null: quiet). */
    private static void run(FlowRules.Rule r, Path netns, PrintStream log) {
        Command.run(inNamespace(netns, r.argv()).toArray(String[]::new));
        if (log != null) {
            log.println("  " + r.command());
        }
    }

    /**
     * Runs the install commands in order, each line echoed to {@code log} (null: quiet); when one
     * fails, runs the remove commands (quietly) and rethrows, so nothing is left half-made.
     */
    static void install(FlowRules.RuleSet rules, Path netns, PrintStream log) {
        for (FlowRules.Rule r : rules.install()) {
            try {
                run(r, netns, log);
            } catch (RuntimeException e) {
                try {
                    remove(rules, netns, null);
                } catch (RuntimeException ignored) {
                    e.addSuppressed(ignored);
                }
                throw e;
            }
        }
    }

    /**
     * Runs every remove command (one that fails, e.g. for a rule that is not there, does not stop
     * the others); throws the first failure at the end.
     */
    static void remove(FlowRules.RuleSet rules, Path netns, PrintStream log) {
        RuntimeException first = null;
        for (FlowRules.Rule r : rules.remove()) {
            try {
                run(r, netns, log);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            String message = first.getMessage() == null ? first.toString() : first.getMessage();
            int newline = message.indexOf('\n');
            throw new IllegalStateException((newline < 0 ? message : message.substring(0, newline))
                    + " (were the rules installed, with the same --queue, --hook and --mode?)", first);
        }
    }

    /**
     * Packets counted by the iptables flow rules of one queue.
     *
     * @param carried packets of accepted connections that passed without the queue (SKIP_ACCEPTED)
     * @param killed  packets of dropped connections dropped in the kernel (SKIP_DROPPED)
     * @param queued  packets the queue rule sent to the queue (connections with no decision yet)
     */
    record Counts(long carried, long killed, long queued) {
        String describe() {
            return carried + " carried by accepted flows without the queue, " + killed
                    + " dropped in the kernel for dropped flows, " + queued + " sent to the queue (iptables counters)";
        }
    }

    /** Reads the counters of queue {@code queue}'s iptables flow rules (IPv4 and IPv6 summed). */
    static Counts counts(int queue, FlowOffload offload, Path netns) {
        long carried = 0;
        long killed = 0;
        long queued = 0;
        for (String tool : List.of("iptables", "ip6tables")) {
            String text = Command.run(inNamespace(netns, List.of(tool, "-w", "-t", "mangle", "-S", "NFQ-FLOW-" + queue,
                    "-v")).toArray(String[]::new));
            Counts c = parseCounts(text, offload);
            carried += c.carried();
            killed += c.killed();
            queued += c.queued();
        }
        return new Counts(carried, killed, queued);
    }

    /** The counts in the output of {@code iptables -t mangle -S NFQ-FLOW-<queue> -v}. */
    static Counts parseCounts(String text, FlowOffload offload) {
        long carried = 0;
        long killed = 0;
        long queued = 0;
        for (String line : text.split("\n")) {
            Matcher m = COUNTED.matcher(line);
            if (!m.find() || Long.decode(m.group(2)) != Integer.toUnsignedLong(offload.mask())) {
                continue;
            }
            long value = Long.decode(m.group(1));
            long packets = Long.parseLong(m.group(3));
            if (value == Integer.toUnsignedLong(offload.acceptValue()) && m.group(5).equals("ACCEPT")) {
                carried += packets;
            } else if (value == Integer.toUnsignedLong(offload.dropValue()) && m.group(5).equals("DROP")) {
                killed += packets;
            } else if (value == 0 && m.group(5).equals("NFQUEUE")) {
                queued += packets;
            }
        }
        return new Counts(carried, killed, queued);
    }

    /**
     * Flow rules a command installed, until it removes them: their counters can be read at any
     * time, also after the removal (the last reading before it), so that a final report printed
     * while a Ctrl-C removes the rules still has them.
     */
    static final class Installed {
        private final FlowRules.RuleSet rules;
        private final int queue;
        private final FlowOffload offload;
        private final Path netns;
        private Counts last = new Counts(0, 0, 0);
        private boolean removed;

        private Installed(FlowRules.RuleSet rules, int queue, FlowOffload offload, Path netns) {
            this.rules = rules;
            this.queue = queue;
            this.offload = offload;
            this.netns = netns;
        }

        /** Installs {@code rules} (iptables, for {@code queue} with {@code offload}); nothing is left on failure. */
        static Installed install(FlowRules.RuleSet rules, int queue, FlowOffload offload, Path netns) {
            FlowSetup.install(rules, netns, null);
            return new Installed(rules, queue, offload, netns);
        }

        /** The rules' counters now; after {@link #remove()}, the last ones read before it. */
        synchronized Counts counts() {
            if (!removed) {
                try {
                    last = FlowSetup.counts(queue, offload, netns);
                } catch (RuntimeException e) {
                    // gone from under us (namespace deleted): the last reading stands
                }
            }
            return last;
        }

        /** Reads the counters one last time, then removes the rules. */
        synchronized void remove() {
            counts();
            removed = true;
            FlowSetup.remove(rules, netns, null);
        }
    }
}
