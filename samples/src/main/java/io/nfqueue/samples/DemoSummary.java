package io.nfqueue.samples;

import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one demo run saw, read at its end.
 *
 * @param counts       the last frame of the live display: verdict, rule and rate counts
 * @param sent         datagrams the client sent, by flow ("10.200.0.11:9000")
 * @param arrived      datagrams that reached the server's sockets, by flow
 * @param kernel       the kernel's line for the queue just before it was unbound
 * @param library      the library's counters for the queue once it was unbound
 * @param namespaces   the namespaces the demo made, in words
 */
public record DemoSummary(DemoFrame counts, Map<String, Long> sent, Map<String, Long> arrived, QueueStats kernel,
                          QueueCounters library, String namespaces) {

    /** Datagrams the client sent in {@code flow}, 0 if none. */
    long sent(DemoScenario.Flow flow) {
        return sent.getOrDefault(flow.key(), 0L);
    }

    /** Datagrams of {@code flow} that reached the server, 0 if none. */
    long arrived(DemoScenario.Flow flow) {
        return arrived.getOrDefault(flow.key(), 0L);
    }

    /** The lines the demo ends with. */
    List<String> describe() {
        DemoFrame f = counts;
        long byRules = 0;
        for (int i = 0; i < DemoScenario.RULES.size(); i++) {
            if (DemoScenario.RULES.get(i).text().startsWith("drop")) {
                byRules += f.ruleHits().get(i);
            }
        }
        List<String> l = new ArrayList<>();
        l.add(String.format("summary: %d packets seen, %d accepted, %d dropped (%d by the firewall's rules, %d over the "
                + "rate)", f.seen(), f.accepted(), f.dropped(), byRules, f.rateLimited()));
        f.flows().ifPresent(c -> {
            l.add(String.format("flow offload: %d packets reached the queue; the flow rules passed %d and dropped %d "
                    + "without it", f.seen(), c.carried(), c.killed()));
            if (c.killed() == 0 && f.dropped() > 1) {
                l.add("  the dropped flows' packets all reached the queue: the rules drop a dropFlow packet before "
                        + "conntrack confirms its new connection, which is then freed with its mark (only a connection "
                        + "confirmed on an earlier hook, e.g. loopback queued on input, keeps it)");
            }
        });
        l.add(String.format("  %-26s %6s %8s  %s", "flow", "sent", "arrived", "who"));
        for (DemoScenario.Flow flow : DemoScenario.FLOWS) {
            l.add(String.format("  %-26s %6d %8d  %s, %d/s", flow.source() + " -> port " + flow.port(), sent(flow),
                    arrived(flow), flow.role(), flow.rate()));
        }
        l.add("kernel (/proc/net/netfilter/nfnetlink_queue): queue " + kernel.queueNumber() + ", port id "
                + kernel.portId() + ", " + ProcQueueStats.counters(kernel));
        l.add("library: " + library.received() + " received, " + library.verdictsSent() + " verdicts sent, "
                + library.unresolved() + " unresolved, " + library.totalDefaultVerdicts() + " default verdicts");
        return l;
    }
}
