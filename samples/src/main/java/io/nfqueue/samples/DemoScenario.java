package io.nfqueue.samples;

import io.nfqueue.FlowOffload;
import io.nfqueue.FlowRules;
import io.nfqueue.Hook;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.ReceiverOptions;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Everything the demo sets up and sends, in one place, so that the demo, its help text and its
 * test all derive from the same numbers: the addresses on the demo's link, the flows the client
 * sends, the firewall's rules and the rate limiter's limit.
 *
 * <pre>
 *   client namespace                                   server namespace
 *   [demo-c] 10.200.0.11 .12 .13 .14  ── veth ──  10.200.0.1 [demo-s]
 *                                                  INPUT -i demo-s -p udp -j NFQUEUE --queue-num 7 --queue-bypass
 * </pre>
 *
 * The addresses exist only inside the demo's two namespaces; no packet leaves them.
 */
final class DemoScenario {
    static final int QUEUE = 7;
    static final String CLIENT_IF = "demo-c";
    static final String SERVER_IF = "demo-s";
    static final String SERVER = "10.200.0.1";
    static final int PREFIX_LENGTH = 24;
    /** The port the server listens on. */
    static final int OPEN_PORT = 9000;
    /** A port the firewall closes: datagrams to it are dropped by rule 1. */
    static final int CLOSED_PORT = 9001;

    static final String STEADY = "10.200.0.11";
    static final String FLOODER = "10.200.0.12";
    static final String BLOCKED = "10.200.0.13";
    static final String TAGGED = "10.200.0.14";
    static final int MARK = 0x1;

    /** The rate limiter's limit per source address: packets per second, and the bucket size. */
    static final int LIMIT_RATE = 30;
    static final int LIMIT_BURST = 15;

    /** One stream of datagrams from {@code source} to the server's {@code port}, {@code rate} per second. */
    record Flow(String source, int port, int rate, String role) {
        /** "10.200.0.11:9000": how the traffic programs name a flow in their output. */
        String key() {
            return source + ":" + port;
        }
    }

    /**
     * What the client sends. The flooder sends four times the limiter's rate; the others stay
     * well under it (a third of it), so that only the flooder is limited, even when a busy
     * machine delivers a second's packets in one burst.
     */
    static final List<Flow> FLOWS = List.of(
            new Flow(STEADY, OPEN_PORT, LIMIT_RATE / 3, "a steady client"),
            new Flow(STEADY, CLOSED_PORT, LIMIT_RATE / 6, "the same client, to a closed port"),
            new Flow(FLOODER, OPEN_PORT, LIMIT_RATE * 4, "a flooder, over the rate limit"),
            new Flow(BLOCKED, OPEN_PORT, LIMIT_RATE / 3, "a blocked host"),
            new Flow(TAGGED, OPEN_PORT, LIMIT_RATE / 3, "a host whose packets are marked"));

    /** A firewall rule ({@link FirewallRules} syntax) and why the demo has it. */
    record Rule(String text, String why) {
    }

    static final List<Rule> RULES = List.of(
            new Rule("drop proto udp dport " + CLOSED_PORT, "a closed port"),
            new Rule("drop src " + BLOCKED, "a blocked host"),
            new Rule("mark=0x" + Integer.toHexString(MARK) + " src " + TAGGED, "marked for a later rule or tc"));

    private DemoScenario() {
    }

    /** The firewall's rules, parsed, with fresh counters. */
    static FirewallRules firewallRules() {
        List<String> lines = new ArrayList<>();
        for (Rule r : RULES) {
            lines.add(r.text());
        }
        return FirewallRules.parse("the demo's rules", lines);
    }

    /**
     * The demo's policy: the firewall with {@link #RULES} (no rule matching: accept), then the
     * rate limiter at {@link #LIMIT_RATE} per second after {@link #LIMIT_BURST}, on {@code nanoClock}.
     */
    static FirewallThenLimiter policy(LongSupplier nanoClock) {
        return policy(nanoClock, false);
    }

    /** As {@link #policy(LongSupplier)}; {@code perFlow}: the firewall decides per connection, no rate limiter. */
    static FirewallThenLimiter policy(LongSupplier nanoClock, boolean perFlow) {
        return new FirewallThenLimiter(new Firewall(firewallRules(), true, perFlow),
                new RateLimiter(LIMIT_RATE, LIMIT_BURST, null, nanoClock), perFlow);
    }

    /** The mark bits of {@code demo --flow-offload}'s flow decisions (the tagged host's mark 0x1 is outside them). */
    static final FlowOffload FLOW_MARKS = FlowOffload.mask(0x0030_0000);

    /** The flow offload rules {@code demo --flow-offload} installs in the server namespace instead of {@link #QUEUE_RULE}. */
    static FlowRules.RuleSet flowRules(boolean connmarkByVerdict) {
        return FlowRules.forQueue(QUEUE).hook(Hook.LOCAL_IN).offload(FLOW_MARKS).bypass(true)
                .connmarkByVerdict(connmarkByVerdict).iptables();
    }

    /**
     * How the demo receives {@link #QUEUE} (in the server's namespace, which the demo adds).
     * Default verdict drop: a firewall fails closed if the policy ever throws.
     */
    static ReceiverOptions receiverOptions() {
        return ReceiverOptions.queue(QUEUE).defaultVerdict(Verdict.drop());
    }

    /** The client's addresses, each once, in the order of {@link #FLOWS}. */
    static List<String> clientAddresses() {
        Set<String> all = new LinkedHashSet<>();
        for (Flow f : FLOWS) {
            all.add(f.source());
        }
        return List.copyOf(all);
    }

    /** The server's ports, each once. */
    static List<Integer> serverPorts() {
        Set<Integer> all = new LinkedHashSet<>();
        for (Flow f : FLOWS) {
            all.add(f.port());
        }
        return List.copyOf(all);
    }

    /**
     * The queue rule, added with iptables in the server's namespace (a constant, so that the
     * demo's help text shows exactly this).
     */
    static final String QUEUE_RULE = "-A INPUT -i " + SERVER_IF + " -p udp -j NFQUEUE --queue-num " + QUEUE
            + " --queue-bypass";
    /** The same rule for nft, for the help text (nft's queue statement needs CONFIG_NFT_QUEUE). */
    static final String NFT_QUEUE_RULE = "nft add rule inet filter input iifname " + SERVER_IF
            + " meta l4proto udp queue num " + QUEUE + " bypass";

    /** {@link #QUEUE_RULE} as iptables arguments. */
    static List<String> queueRule() {
        return List.of(QUEUE_RULE.split(" "));
    }
}
