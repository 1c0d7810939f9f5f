package io.nfqueue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The netfilter rules that make {@link FlowOffload} work, for iptables or nft, each with the
 * reason it is there: accept or drop by connection mark ahead of the queue, queue only
 * connections with no decision yet, and copy a flow verdict's packet mark to the connection.
 * Immutable.
 *
 * <pre>{@code
 * FlowOffload flows = FlowOffload.mask(0x0030_0000);
 * FlowRules.RuleSet rules = FlowRules.forQueue(0).hook(Hook.LOCAL_IN).offload(flows).iptables();
 * System.out.print(rules.script());                 // a shell script, one comment per rule
 * for (FlowRules.Rule r : rules.install()) {
 *     new ProcessBuilder(r.argv()).inheritIO().start().waitFor();
 * }
 * }</pre>
 *
 * <p>Never in nat chains: they see only the first packet of a connection. The rules live in
 * chains of their own ({@code NFQ-FLOW-<queue>} in iptables, table {@code nfq_flow_<queue>} in
 * nft), jumped to from the top of the hook's chain, so {@link RuleSet#remove()} takes them away
 * without touching other rules. Removing an nft base chain drops every packet still queued in
 * that network namespace: remove the rules after the program has stopped reading, or accept it.
 */
public final class FlowRules {
    /** What a rule does in the scheme. */
    public enum Role {
        /** Creates a chain or a table. */
        SETUP,
        /** Sends the hook's packets into the chain of these rules. */
        JUMP,
        /** Copies a flow verdict's packet mark to the connection mark. */
        SAVE,
        /** Ends the packet that carried a flow verdict, by its packet mark. */
        DECIDED,
        /** Accepts later packets of an accepted connection, without queueing them. */
        SKIP_ACCEPTED,
        /** Drops later packets of a dropped connection. */
        SKIP_DROPPED,
        /** Queues the packets of connections with no decision. */
        QUEUE
    }

    /** One command: its argument vector (no shell needed), its role and why it is there. */
    public record Rule(Role role, List<String> argv, String why) {
        public Rule {
            Objects.requireNonNull(role, "role");
            argv = List.copyOf(argv);
            Objects.requireNonNull(why, "why");
        }

        /** The command as one shell line, quoted where the shell would misread it. */
        public String command() {
            return argv.stream().map(FlowRules::shellQuote).collect(Collectors.joining(" "));
        }
    }

    /** The rules for one backend, with the commands that remove them again. */
    public static final class RuleSet {
        private final String title;
        private final List<Rule> install;
        private final List<Rule> remove;
        private final List<Rule> forget;
        private final boolean repeat;

        RuleSet(String title, List<Rule> install, List<Rule> remove, List<Rule> forget, boolean repeat) {
            this.title = title;
            this.install = List.copyOf(install);
            this.remove = List.copyOf(remove);
            this.forget = List.copyOf(forget);
            this.repeat = repeat;
        }

        /** The commands that install the rules, in order. */
        public List<Rule> install() {
            return install;
        }

        /** The commands that take them away again, in order. */
        public List<Rule> remove() {
            return remove;
        }

        /**
         * The commands that forget the decisions these rules hold themselves (nft: the connections
         * dropped on their first packet, in the table's sets; iptables: none), to run beside
         * {@link FlowDecisions#forget}, which clears the connection marks.
         */
        public List<Rule> forget() {
            return forget;
        }

        /**
         * The same rules without those of {@code roles}, e.g. without {@link Role#QUEUE} where
         * the kernel has no nft queue statement and iptables' NFQUEUE target queues instead.
         */
        public RuleSet without(Role... roles) {
            Set<Role> drop = roles.length == 0 ? EnumSet.noneOf(Role.class) : EnumSet.copyOf(Arrays.asList(roles));
            if (repeat && drop.contains(Role.QUEUE)) {
                // REPEAT re-runs only the hook entry that queued the packet: a queue rule elsewhere
                // (an iptables chain beside this nft table) would never reach the copy rules here,
                // and the packet would be queued again forever.
                throw new IllegalStateException("in REPEAT mode the queue rule must stay in the chain of the copy "
                        + "rules: the repeated packet re-runs only the chain that queued it; use Mode.ACCEPT to queue "
                        + "from another chain or tool");
            }
            return new RuleSet(title, install.stream().filter(r -> !drop.contains(r.role())).toList(), remove, forget,
                    repeat);
        }

        /** A shell script: each command after a comment that says why it is there. */
        public String script() {
            StringBuilder s = new StringBuilder("#!/bin/sh\n# ").append(title).append("\nset -e\n");
            for (Rule r : install) {
                s.append("\n# ").append(r.why().replace("\n", "\n# ")).append('\n').append(r.command()).append('\n');
            }
            s.append("\n# To remove them:\n");
            for (Rule r : remove) {
                s.append("#   ").append(r.command()).append('\n');
            }
            return s.toString();
        }

        @Override
        public String toString() {
            return script();
        }
    }

    private final int queue;
    private final Hook hook;
    private final FlowOffload offload;
    private final boolean bypass;
    private final boolean connmarkByVerdict;
    private final FlowMatch match;

    private FlowRules(int queue, Hook hook, FlowOffload offload, boolean bypass, boolean connmarkByVerdict,
                      FlowMatch match) {
        this.queue = queue;
        this.hook = hook;
        this.offload = offload;
        this.bypass = bypass;
        this.connmarkByVerdict = connmarkByVerdict;
        this.match = match;
    }

    /** Rules for queue {@code number} on {@link Hook#LOCAL_IN}, {@code FlowOffload.mask(0x00300000)}. */
    public static FlowRules forQueue(int number) {
        QueueOptions.checkQueueNumber(number);
        return new FlowRules(number, Hook.LOCAL_IN, FlowOffload.mask(0x0030_0000), false, false, null);
    }

    /** The hook whose packets are queued (not {@link Hook#UNKNOWN}). */
    public FlowRules hook(Hook newHook) {
        Objects.requireNonNull(newHook, "hook");
        if (newHook == Hook.UNKNOWN) {
            throw new IllegalArgumentException(
                    "rules need a known hook: PRE_ROUTING, LOCAL_IN, FORWARD, LOCAL_OUT or POST_ROUTING");
        }
        return new FlowRules(queue, newHook, offload, bypass, connmarkByVerdict, match);
    }

    /** The mark bits and mode the queue uses: the same instance as its {@link QueueOptions#flowOffload(FlowOffload)}. */
    public FlowRules offload(FlowOffload newOffload) {
        return new FlowRules(queue, hook, Objects.requireNonNull(newOffload, "offload"), bypass, connmarkByVerdict, match);
    }

    /**
     * Whether undecided packets pass (true) or are dropped (false, the default) while no program
     * has the queue bound. Decided connections flow either way: their packets never reach the queue.
     */
    public FlowRules bypass(boolean enabled) {
        return new FlowRules(queue, hook, offload, enabled, connmarkByVerdict, match);
    }

    /**
     * For a kernel that sets the connection mark from the verdict ({@link BoundQueue#connmarkByVerdict()}):
     * leaves out the rules that copy the packet mark to the connection.
     */
    public FlowRules connmarkByVerdict(boolean byVerdict) {
        return new FlowRules(queue, hook, offload, bypass, byVerdict, match);
    }

    /**
     * Only packets that match go through the rules (and can be queued); the others pass them by.
     * Without a match (the default) every packet of the hook does.
     */
    public FlowRules match(FlowMatch newMatch) {
        return new FlowRules(queue, hook, offload, bypass, connmarkByVerdict, Objects.requireNonNull(newMatch, "match"));
    }

    /** iptables and ip6tables commands (the legacy or the nft backend alike). */
    public RuleSet iptables() {
        boolean repeat = offload.mode() == FlowOffload.Mode.REPEAT && !connmarkByVerdict;
        if (!repeat && !connmarkByVerdict && (hook == Hook.PRE_ROUTING || hook == Hook.POST_ROUTING)) {
            throw new IllegalStateException("iptables has no table after mangle on " + iptablesChain(hook)
                    + " other than nat, which sees only the first packet of a connection: use FlowOffload.Mode.REPEAT "
                    + "on this hook, or nft()");
        }
        String chain = "NFQ-FLOW-" + queue;
        String saveChain = chain + "-SAVE";
        String m = hex(offload.mask());
        String a = hex(offload.acceptValue()) + "/" + m;
        String d = hex(offload.dropValue()) + "/" + m;
        List<Rule> install = new ArrayList<>();
        List<Rule> remove = new ArrayList<>();
        for (String tool : List.of("iptables", "ip6tables")) {
            install.add(ipt(tool, Role.SETUP, "mangle", List.of("-N", chain),
                    "A chain of their own in mangle (after conntrack, which the connection mark needs), so they come "
                            + "out again in one piece"));
            if (repeat) {
                addRepeatSaves(install, tool, chain, a, d);
            }
            install.add(ipt(tool, Role.SKIP_ACCEPTED, "mangle", List.of("-A", chain, "-m", "connmark", "--mark", a, "-j",
                    "ACCEPT"), "Later packets of an accepted connection pass without the queue: this rule is the offload"));
            install.add(ipt(tool, Role.SKIP_DROPPED, "mangle", List.of("-A", chain, "-m", "connmark", "--mark", d, "-j",
                    "DROP"), "Later packets of a dropped connection die here, in the kernel"));
            List<String> q = new ArrayList<>(List.of("-A", chain, "-m", "connmark", "--mark", "0/" + m, "-j", "NFQUEUE",
                    "--queue-num", Integer.toString(queue)));
            if (bypass) {
                q.add("--queue-bypass");
            }
            install.add(ipt(tool, Role.QUEUE, "mangle", q, "Only connections with no decision reach the queue"
                    + (bypass ? "; while no program has it bound they pass (--queue-bypass)"
                    : "; while no program has it bound the kernel drops them")));
            install.add(ipt(tool, Role.JUMP, "mangle", jump("-I", iptablesChain(hook), "1", chain),
                    match == null ? "Every packet of the hook goes through these rules first"
                            : "The packets of the match go through these rules first; the others pass them by"));
            remove.add(ipt(tool, Role.JUMP, "mangle", jump("-D", iptablesChain(hook), null, chain), "jump"));
            remove.add(ipt(tool, Role.SETUP, "mangle", List.of("-F", chain), "flush"));
            remove.add(ipt(tool, Role.SETUP, "mangle", List.of("-X", chain), "delete"));
            if (!repeat && !connmarkByVerdict) {
                install.add(ipt(tool, Role.SETUP, "filter", List.of("-N", saveChain),
                        "A chain in filter, which the hook runs after mangle: an accepted verdict continues here"));
                install.add(ipt(tool, Role.SAVE, "filter", List.of("-A", saveChain, "-m", "mark", "--mark", a, "-j",
                        "CONNMARK", "--set-xmark", a), "The packet accepted with acceptFlow carries the accept value in "
                        + "its mark: copy it to the connection (only the mask's bits), or every packet is queued"));
                install.add(ipt(tool, Role.SAVE, "filter", List.of("-A", saveChain, "-m", "mark", "--mark", d, "-j",
                        "CONNMARK", "--set-xmark", d), "dropFlow's packet arrives accepted with the drop value: copy it "
                        + "to the connection"));
                install.add(ipt(tool, Role.DECIDED, "filter", List.of("-A", saveChain, "-m", "mark", "--mark", d, "-j",
                        "DROP"), "...and drop that packet itself: without this rule dropFlow would let it through"));
                install.add(ipt(tool, Role.JUMP, "filter", List.of("-I", iptablesChain(hook), "1", "-j", saveChain),
                        "Every packet of the hook goes through the copy first"));
                remove.add(ipt(tool, Role.JUMP, "filter", List.of("-D", iptablesChain(hook), "-j", saveChain), "jump"));
                remove.add(ipt(tool, Role.SETUP, "filter", List.of("-F", saveChain), "flush"));
                remove.add(ipt(tool, Role.SETUP, "filter", List.of("-X", saveChain), "delete"));
            }
        }
        return new RuleSet("Flow offload for queue " + queue + " on " + iptablesChain(hook) + ", " + offload
                + (connmarkByVerdict ? ", connection mark set by the verdict" : "")
                + (match == null ? "" : ", only packets of " + match), install, remove, List.of(), repeat);
    }

    /** {@code -I CHAIN 1 [match] -j TARGET}, or {@code -D CHAIN [match] -j TARGET} with position null. */
    private List<String> jump(String op, String from, String position, String target) {
        List<String> args = new ArrayList<>(List.of(op, from));
        if (position != null) {
            args.add(position);
        }
        if (match != null) {
            args.addAll(match.iptablesArgs());
        }
        args.add("-j");
        args.add(target);
        return args;
    }

    private static void addRepeatSaves(List<Rule> install, String tool, String chain, String a, String d) {
        install.add(ipt(tool, Role.SAVE, "mangle", List.of("-A", chain, "-m", "mark", "--mark", a, "-j", "CONNMARK",
                "--set-xmark", a), "acceptFlow came back as REPEAT with the accept value in the packet mark: copy it "
                + "to the connection (only the mask's bits), or every packet is queued"));
        install.add(ipt(tool, Role.DECIDED, "mangle", List.of("-A", chain, "-m", "mark", "--mark", a, "-j", "ACCEPT"),
                "...and let that packet go by its own mark, so it cannot loop through the queue even when the "
                        + "connection mark could not be set (no conntrack entry)"));
        install.add(ipt(tool, Role.SAVE, "mangle", List.of("-A", chain, "-m", "mark", "--mark", d, "-j", "CONNMARK",
                "--set-xmark", d), "The same for dropFlow's drop value"));
        install.add(ipt(tool, Role.DECIDED, "mangle", List.of("-A", chain, "-m", "mark", "--mark", d, "-j", "DROP"),
                "...and drop that packet"));
    }

    /**
     * How long the nft rules remember a connection dropped on its first packet after its last
     * packet: refreshed by each one, so a flow that keeps sending stays dropped. 120 s is
     * conntrack's longest timeout for a connection with no answer (TCP's SYN_SENT).
     */
    static final String FIRST_DROP_MEMORY = "120s";

    /** The 5-tuple of an IPv4 or IPv6 TCP or UDP packet, as an nft concatenation (the sets' key). */
    private static final List<String> KEY4 = List.of("ip", "saddr", ".", "meta", "l4proto", ".", "ip", "daddr", ".",
            "th", "sport", ".", "th", "dport");
    private static final List<String> KEY6 = List.of("ip6", "saddr", ".", "meta", "l4proto", ".", "ip6", "daddr", ".",
            "th", "sport", ".", "th", "dport");

    /**
     * nft commands: one inet table for IPv4 and IPv6. Unlike iptables, they also remember a TCP
     * or UDP connection dropped on its very first packet: such a packet dies before conntrack
     * confirms its entry, which goes with its mark, so the rules put the 5-tuple in a set with a
     * timeout ({@link #FIRST_DROP_MEMORY}, refreshed by every packet) and drop what matches
     * before the queue. Not with the kernel's conntrack glue ({@link #connmarkByVerdict}), whose
     * DROP verdict no rule sees.
     */
    public RuleSet nft() {
        boolean repeat = offload.mode() == FlowOffload.Mode.REPEAT && !connmarkByVerdict;
        String table = "nfq_flow_" + queue;
        String m = hex(offload.mask());
        String keep = hex(~offload.mask());
        String a = hex(offload.acceptValue());
        String d = hex(offload.dropValue());
        String h = nftHook(hook);
        List<Rule> install = new ArrayList<>();
        install.add(nft(Role.SETUP, "A table of its own, removed in one command", "add", "table", "inet", table));
        boolean rememberFirstDrops = !connmarkByVerdict;
        if (rememberFirstDrops) {
            for (String family : List.of("4", "6")) {
                String addr = family.equals("4") ? "ipv4_addr" : "ipv6_addr";
                install.add(nft(Role.SETUP, "IPv" + family + " connections dropped by dropFlow, by 5-tuple: conntrack cannot "
                        + "remember one dropped on its first packet (its entry is never confirmed)", "add", "set", "inet",
                        table, "dropped" + family, "{", "type", addr, ".", "inet_proto", ".", addr, ".", "inet_service", ".",
                        "inet_service", ";", "flags", "timeout", ";", "timeout", FIRST_DROP_MEMORY, ";", "}"));
            }
        }
        // -150 (mangle) runs after conntrack (-200), so the connection mark is there to read.
        install.add(nft(Role.SETUP, "The chain that decides and queues, after conntrack (-200) on the " + h + " hook",
                "add", "chain", "inet", table, "decide", "{", "type", "filter", "hook", h, "priority", "-150", ";",
                "policy", "accept", ";", "}"));
        if (repeat) {
            install.add(nft(Role.SAVE, "acceptFlow came back as REPEAT with the accept value in the packet mark: copy it "
                    + "to the connection (only the mask's bits) and let the packet go", "add", "rule", "inet", table,
                    "decide", "meta", "mark", "and", m, "==", a, "ct", "mark", "set", "ct", "mark", "and", keep, "or", a,
                    "accept"));
            install.addAll(rememberDrops(table, "decide", m, d));
            install.add(nft(Role.SAVE, "The same for dropFlow's drop value, and drop the packet", "add", "rule", "inet",
                    table, "decide", "meta", "mark", "and", m, "==", d, "ct", "mark", "set", "ct", "mark", "and", keep,
                    "or", d, "drop"));
        }
        install.add(nft(Role.SKIP_ACCEPTED, "Later packets of an accepted connection pass without the queue: the offload",
                decideRule(table, "ct", "mark", "and", m, "==", a, "accept")));
        install.add(nft(Role.SKIP_DROPPED, "Later packets of a dropped connection die here, in the kernel",
                decideRule(table, "ct", "mark", "and", m, "==", d, "drop")));
        if (rememberFirstDrops) {
            for (String family : List.of("4", "6")) {
                List<String> key = family.equals("4") ? KEY4 : KEY6;
                List<String> words = new ArrayList<>(key);
                words.addAll(List.of("@dropped" + family, "update", "@dropped" + family, "{"));
                words.addAll(key);
                words.addAll(List.of("}", "drop"));
                install.add(nft(Role.SKIP_DROPPED, "...and those of one dropped on its first packet, by the set (each "
                        + "refreshes its " + FIRST_DROP_MEMORY + ")", decideRule(table, words.toArray(String[]::new))));
            }
        }
        List<String> q = new ArrayList<>(List.of(decideRule(table, "ct", "mark", "and", m, "==", "0x0", "queue", "num",
                Integer.toString(queue))));
        if (bypass) {
            q.add("bypass");
        }
        install.add(nft(Role.QUEUE, "Only connections with no decision reach the queue"
                + (bypass ? "; unbound, they pass (bypass)" : "; unbound, the kernel drops them"), q.toArray(String[]::new)));
        if (!repeat && !connmarkByVerdict) {
            install.add(nft(Role.SETUP, "A later base chain on the same hook: accept in the first chain goes on to this one",
                    "add", "chain", "inet", table, "save", "{", "type", "filter", "hook", h, "priority", "10", ";",
                    "policy", "accept", ";", "}"));
            install.add(nft(Role.SAVE, "acceptFlow's packet carries the accept value: copy it to the connection (only the "
                    + "mask's bits), or every packet is queued", "add", "rule", "inet", table, "save", "meta", "mark", "and",
                    m, "==", a, "ct", "mark", "set", "ct", "mark", "and", keep, "or", a));
            install.addAll(rememberDrops(table, "save", m, d));
            install.add(nft(Role.SAVE, "dropFlow's packet arrives accepted with the drop value: copy it, then drop the "
                    + "packet (without this rule dropFlow would let it through)", "add", "rule", "inet", table, "save",
                    "meta", "mark", "and", m, "==", d, "ct", "mark", "set", "ct", "mark", "and", keep, "or", d, "drop"));
        }
        List<Rule> remove = List.of(nft(Role.SETUP, "delete", "delete", "table", "inet", table));
        List<Rule> forget = new ArrayList<>();
        if (rememberFirstDrops) {
            for (String family : List.of("4", "6")) {
                forget.add(nft(Role.SETUP, "forget the IPv" + family + " connections dropped on their first packet",
                        "flush", "set", "inet", table, "dropped" + family));
            }
        }
        return new RuleSet("Flow offload for queue " + queue + " on the " + h + " hook, " + offload
                + (connmarkByVerdict ? ", connection mark set by the verdict" : "")
                + (match == null ? "" : ", only packets of " + match), install, remove, forget, repeat);
    }

    /** The rules that put a dropFlow packet's 5-tuple in the sets, before the rule that drops it. */
    private static List<Rule> rememberDrops(String table, String chain, String mask, String dropValue) {
        List<Rule> rules = new ArrayList<>();
        for (String family : List.of("4", "6")) {
            List<String> words = new ArrayList<>(List.of("add", "rule", "inet", table, chain, "meta", "mark", "and", mask,
                    "==", dropValue, "ct", "status", "and", "confirmed", "==", "0", "meta", "l4proto", "{", "tcp,", "udp",
                    "}", "add", "@dropped" + family, "{"));
            words.addAll(family.equals("4") ? KEY4 : KEY6);
            words.add("}");
            rules.add(nft(Role.SAVE, "dropFlow's TCP or UDP packet (IPv" + family + ") of a connection conntrack has not "
                    + "confirmed yet, its first: remember the 5-tuple (a confirmed one keeps the mark, and "
                    + "FlowDecisions.forget can clear that)", words.toArray(String[]::new)));
        }
        return rules;
    }

    /** A rule of the decide chain, behind the match when there is one. */
    private String[] decideRule(String table, String... words) {
        List<String> args = new ArrayList<>(List.of("add", "rule", "inet", table, "decide"));
        if (match != null) {
            args.addAll(match.nftWords());
        }
        args.addAll(List.of(words));
        return args.toArray(String[]::new);
    }

    private static Rule ipt(String tool, Role role, String table, List<String> args, String why) {
        List<String> argv = new ArrayList<>(List.of(tool, "-w", "-t", table));
        argv.addAll(args);
        return new Rule(role, argv, why);
    }

    private static Rule nft(Role role, String why, String... args) {
        List<String> argv = new ArrayList<>(List.of("nft"));
        argv.addAll(List.of(args));
        return new Rule(role, argv, why);
    }

    static String iptablesChain(Hook hook) {
        switch (hook) {
            case PRE_ROUTING:
                return "PREROUTING";
            case LOCAL_IN:
                return "INPUT";
            case FORWARD:
                return "FORWARD";
            case LOCAL_OUT:
                return "OUTPUT";
            case POST_ROUTING:
                return "POSTROUTING";
            default:
                throw new IllegalArgumentException("no chain for " + hook);
        }
    }

    static String nftHook(Hook hook) {
        return iptablesChain(hook).toLowerCase(Locale.ROOT);
    }

    private static String hex(int value) {
        return "0x" + Integer.toHexString(value);
    }

    static String shellQuote(String arg) {
        if (!arg.isEmpty() && arg.chars().allMatch(c -> Character.isLetterOrDigit(c) || "-_./:=,+@%".indexOf(c) >= 0)) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }
}
