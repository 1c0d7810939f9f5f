package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.Packet;
import io.nfqueue.PacketHandler;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.packet.MalformedPacketException;
import io.nfqueue.packet.PacketParser;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The firewall: gives each packet the verdict of the first {@link FirewallRules} rule that
 * matches its 5-tuple (read with {@link PacketParser}), or the default. Packets that do not
 * parse get the default too. Decides for one thread at a time (it reuses one parser).
 */
final class Firewall implements PacketHandler {
    private final FirewallRules rules;
    private final boolean defaultAccept;
    private final AtomicLong defaultHits = new AtomicLong();
    private final AtomicLong seen = new AtomicLong();
    private final PacketParser parser = new PacketParser();
    private final byte[] src = new byte[16];
    private final byte[] dst = new byte[16];

    Firewall(FirewallRules rules, boolean defaultAccept) {
        this.rules = rules;
        this.defaultAccept = defaultAccept;
    }

    @Override
    public void handle(Packet packet) {
        packet.verdict(decide(packet));
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
        FirewallRules.Rule rule = flow == null ? null : rules.match(flow);
        if (rule != null) {
            return rule.verdict();
        }
        defaultHits.incrementAndGet();
        return defaultAccept ? Verdict.accept() : Verdict.drop();
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
        StringBuilder b = new StringBuilder("packets: " + seen.get() + "\n");
        for (FirewallRules.Rule r : rules.rules()) {
            b.append(String.format("  %10d  line %d: %s%n", r.hits().get(), r.line(), r.text()));
        }
        b.append(String.format("  %10d  default: %s", defaultHits.get(), defaultAccept ? "accept" : "drop"));
        return b.toString();
    }

    /**
     * How the firewall binds its queue: the packets it leaves without a verdict (when it stops
     * with packets in hand) get its default too.
     */
    static QueueOptions queueOptions(int queueNumber, boolean defaultAccept) {
        return QueueOptions.queue(queueNumber).defaultVerdict(defaultAccept ? Verdict.accept() : Verdict.drop());
    }

    /**
     * Binds the queue and filters until {@code duration} passes (null: until Ctrl-C), printing
     * the counters every {@code interval}.
     */
    static Firewall run(int queueNumber, Path netns, FirewallRules rules, boolean defaultAccept, Duration interval,
                        Duration duration, PrintStream out) {
        QueueOptions options = Samples.requireAndApply(queueOptions(queueNumber, defaultAccept), netns);
        Firewall fw = new Firewall(rules, defaultAccept);
        NetfilterQueue queue = NetfilterQueue.open(options);
        try (FinalReport last = new FinalReport("firewall", queue::close, () -> out.println(fw.report()))) {
            try {
                out.println("firewall on queue " + queueNumber + (netns == null ? "" : " in " + netns) + ": "
                        + Main.count(rules.rules().size(), "rule") + ", default " + (defaultAccept ? "accept" : "drop"));
                Samples.pollLoop(queue, fw, interval, duration, () -> out.println(fw.report()));
            } finally {
                queue.close();
            }
            last.print();
        }
        return fw;
    }
}
