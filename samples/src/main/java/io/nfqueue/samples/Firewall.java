package io.nfqueue.samples;

import io.nfqueue.Packet;
import io.nfqueue.PacketHandler;
import io.nfqueue.Verdict;
import io.nfqueue.packet.MalformedPacketException;
import io.nfqueue.packet.PacketParser;
import reactor.core.publisher.Flux;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The firewall: gives each packet the verdict of the first {@link FirewallRules} rule that
 * matches its 5-tuple (read with {@link PacketParser}), or the default. Packets that do not
 * parse get the default too. Decides for one thread at a time (it reuses one parser).
 *
 * <p>Per flow ({@link #perFlow}, for a queue with {@code QueueOptions.flowOffload} and the rules of
 * {@code FlowRules}), an accept or drop, by a rule or by the default, becomes
 * {@link Verdict#acceptFlow()} or {@link Verdict#dropFlow()}: the connection is decided on its first
 * packet and its later packets never reach the queue. A {@code mark=} rule stays a per-packet
 * verdict (a flow decision would mark only its first packet), so those connections keep coming
 * to the queue; so do packets that do not parse (a fragment says nothing about its connection).
 */
final class Firewall implements PacketHandler {
    private final FirewallRules rules;
    private final boolean defaultAccept;
    private final AtomicLong defaultHits = new AtomicLong();
    private final AtomicLong seen = new AtomicLong();
    private final AtomicLong flowsAccepted = new AtomicLong();
    private final AtomicLong flowsDropped = new AtomicLong();
    private final boolean perFlow;
    private final PacketParser parser = new PacketParser();
    private final byte[] src = new byte[16];
    private final byte[] dst = new byte[16];
    /** Whether the packet {@link #decide} saw last did not parse (one thread at a time, as the parser). */
    private boolean unparsed;

    Firewall(FirewallRules rules, boolean defaultAccept) {
        this(rules, defaultAccept, false);
    }

    /** {@code perFlow}: decide each connection on its first packet (see the class comment). */
    Firewall(FirewallRules rules, boolean defaultAccept, boolean perFlow) {
        this.rules = rules;
        this.defaultAccept = defaultAccept;
        this.perFlow = perFlow;
    }

    /** {@link #decide}, per flow where this firewall decides per flow: the verdict it gives. */
    Verdict verdictFor(Packet packet) {
        Verdict v = decide(packet);
        if (!perFlow || v.mark().isPresent() || unparsed) {
            return v;
        }
        if (v.kind() == Verdict.Kind.ACCEPT) {
            flowsAccepted.incrementAndGet();
            return Verdict.acceptFlow();
        }
        flowsDropped.incrementAndGet();
        return Verdict.dropFlow();
    }

    boolean perFlow() {
        return perFlow;
    }

    long flowsAccepted() {
        return flowsAccepted.get();
    }

    long flowsDropped() {
        return flowsDropped.get();
    }

    @Override
    public void handle(Packet packet) {
        packet.verdict(verdictFor(packet));
    }

    /**
     * The verdict for {@code packet}, counted against its rule (or the default), without giving
     * it: for programs that chain the firewall with another stage (the demo's rate limiter).
     */
    Verdict decide(Packet packet) {
        seen.incrementAndGet();
        FirewallRules.Flow flow;
        try {
            parser.parse(packet);
            int len = parser.copySourceAddress(src, 0);
            parser.copyDestinationAddress(dst, 0);
            flow = new FirewallRules.Flow(parser.protocol(), src, dst, len, parser.sourcePort(),
                    parser.destinationPort(), packet.hook());
        } catch (MalformedPacketException e) {
            flow = null;
        }
        // No ports on a TCP or UDP packet (a later fragment): it says nothing of its connection.
        unparsed = flow == null || ((flow.protocol() == 6 || flow.protocol() == 17) && flow.sourcePort() < 0);
        FirewallRules.Rule rule = flow == null ? null : rules.match(flow);
        if (rule != null) {
            return rule.verdict();
        }
        defaultHits.incrementAndGet();
        return defaultVerdict();
    }

    long seen() {
        return seen.get();
    }

    long defaultHits() {
        return defaultHits.get();
    }

    FirewallRules rules() {
        return rules;
    }

    /** The per-rule counters, one line per rule and one for the default. */
    String report() {
        StringBuilder b = new StringBuilder(perFlow
                ? "packets that reached the queue: " + seen.get() + "; flows decided: " + flowsAccepted.get()
                        + " accepted, " + flowsDropped.get() + " dropped\n"
                : "packets: " + seen.get() + "\n");
        for (FirewallRules.Rule r : rules.rules()) {
            b.append(String.format("  %10d  line %d: %s%n", r.hits().get(), r.line(), r.text()));
        }
        b.append(String.format("  %10d  default: %s", defaultHits.get(), defaultAccept ? "accept" : "drop"));
        return b.toString();
    }

    Verdict defaultVerdict() {
        return defaultAccept ? Verdict.accept() : Verdict.drop();
    }

    /**
     * The firewall as a Reactor pipeline: each packet gets {@link #decide}'s verdict as it passes,
     * on the receive thread (one at a time, as the reused parser needs). The live command and its
     * replay both run this.
     */
    Function<Flux<Packet>, Flux<Packet>> pipeline() {
        return packets -> packets.doOnNext(this::handle);
    }

    /** The firewall command: its pipeline, default verdict, banner and counters. */
    SamplePipeline sample() {
        return new SamplePipeline("firewall", pipeline(), defaultVerdict(),
                () -> Main.count(rules.rules().size(), "rule") + ", default " + (defaultAccept ? "accept" : "drop")
                        + (perFlow ? ", per flow (each connection decided on its first packet)" : ""),
                this::report);
    }
}
