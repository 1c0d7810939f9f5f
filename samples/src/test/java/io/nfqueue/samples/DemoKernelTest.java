package io.nfqueue.samples;

import io.nfqueue.test.kernel.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo end to end: its counts against what the scenario says must happen to each flow, and
 * that it leaves the host as it found it after a normal run and after a failure part-way. (Ctrl-C
 * is in {@link DemoSignalKernelTest}: it needs a JVM of its own.)
 */
@KernelTest
@Timeout(60)
class DemoKernelTest {
    private static final int SECONDS = 4;
    private static final DemoScenario.Flow STEADY = flow(DemoScenario.STEADY, DemoScenario.OPEN_PORT);
    private static final DemoScenario.Flow CLOSED_PORT = flow(DemoScenario.STEADY, DemoScenario.CLOSED_PORT);
    private static final DemoScenario.Flow FLOODER = flow(DemoScenario.FLOODER, DemoScenario.OPEN_PORT);
    private static final DemoScenario.Flow BLOCKED = flow(DemoScenario.BLOCKED, DemoScenario.OPEN_PORT);
    private static final DemoScenario.Flow TAGGED = flow(DemoScenario.TAGGED, DemoScenario.OPEN_PORT);

    @Test
    void firewallAndRateLimiterGiveTheVerdictsTheirRulesSayAndNothingIsLeftBehind() throws Exception {
        HostNetworkState before = HostNetworkState.read();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DemoSummary s;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            s = Demo.run(Duration.ofSeconds(SECONDS), false, out);
        }
        String output = bytes.toString(StandardCharsets.UTF_8);
        DemoFrame c = s.counts();

        // The client kept its schedule, and every datagram it sent went through the queue.
        long sent = 0;
        for (DemoScenario.Flow f : DemoScenario.FLOWS) {
            assertEquals((long) f.rate() * SECONDS, s.sent(f), f + "\n" + output);
            sent += s.sent(f);
        }
        assertEquals(sent, c.seen(), "packets seen by the queue\n" + output);

        // Every packet got exactly one verdict, and the kernel holds none.
        assertEquals(c.seen(), c.accepted() + c.dropped(), output);
        assertEquals(c.seen(), s.library().received(), output);
        assertEquals(c.seen(), s.library().verdictsSent(), output);
        assertEquals(0, s.library().unresolved(), output);
        assertEquals(0, s.library().totalDefaultVerdicts(), "no packet needed the default verdict\n" + output);
        assertEquals(0, s.kernel().queued(), "the kernel still holds packets\n" + output);
        assertEquals(0, s.kernel().queueDropped() + s.kernel().userDropped(), output);
        assertEquals(c.seen(), s.kernel().lastPacketId(), output);

        // The firewall: each rule hit exactly the flow it names; the others fell through to accept.
        assertEquals(List.of(s.sent(CLOSED_PORT), s.sent(BLOCKED), s.sent(TAGGED)), c.ruleHits(), output);
        assertEquals(s.sent(STEADY) + s.sent(FLOODER), c.defaultHits(), output);
        assertEquals(0, s.arrived(CLOSED_PORT), output);
        assertEquals(0, s.arrived(BLOCKED), output);
        assertEquals(s.sent(TAGGED), s.arrived(TAGGED), "a mark does not stop a packet\n" + output);

        // The rate limiter: sources under the rate pass whole; the flooder passes its burst and
        // then the rate, for as long as it sent by its schedule.
        assertEquals(s.sent(STEADY), s.arrived(STEADY), output);
        assertEquals(s.sent(FLOODER) - s.arrived(FLOODER), c.rateLimited(), "only the flooder is limited\n" + output);
        double floodSeconds = (s.sent(FLOODER) - 1) / (double) FLOODER.rate();
        double expected = DemoScenario.LIMIT_BURST + DemoScenario.LIMIT_RATE * floodSeconds;
        assertTrue(Math.abs(s.arrived(FLOODER) - expected) <= 3 + 0.15 * expected,
                "the flooder passed " + s.arrived(FLOODER) + ", expected about " + expected + "\n" + output);

        // What was accepted is exactly what arrived.
        assertEquals(c.accepted(), s.arrived().values().stream().mapToLong(Long::longValue).sum(), output);

        // The live display was shown, as plain blocks (not a terminal), and the summary.
        assertTrue(output.contains("packets/s") && output.contains("dropped over " + DemoScenario.LIMIT_RATE + "/s"),
                output);
        assertFalse(output.contains("\033["), "no escapes outside a terminal\n" + output);
        assertTrue(output.contains("summary: " + c.seen() + " packets seen"), output);
        assertTrue(output.contains("removed network namespaces " + s.namespaces()), output);

        assertLeftAsFound(before);
    }

    /**
     * demo --flow-offload: the allowed flows arrive whole and the blocked ones not at all, while the
     * queue sees only part of the traffic: every datagram sent either reached the queue or was
     * carried (accepted flows) or dropped (dropped flows) by the flow rules without it.
     */
    @Test
    void withFlowOffloadTheFlowsRulesCarryWhatTheQueueDoesNotSee() throws Exception {
        HostNetworkState before = HostNetworkState.read();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DemoSummary s;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            s = Demo.run(Duration.ofSeconds(SECONDS), false, out, true);
        }
        String output = bytes.toString(StandardCharsets.UTF_8);
        DemoFrame c = s.counts();
        long sent = 0;
        for (DemoScenario.Flow f : DemoScenario.FLOWS) {
            sent += s.sent(f);
        }
        for (DemoScenario.Flow f : List.of(STEADY, FLOODER, TAGGED)) {
            assertEquals(s.sent(f), s.arrived(f), f + "\n" + output);
        }
        assertEquals(0, s.arrived(CLOSED_PORT), output);
        assertEquals(0, s.arrived(BLOCKED), output);
        FlowSetup.Counts flows = c.flows().orElseThrow(() -> new AssertionError("no flow counters\n" + output));
        assertTrue(flows.carried() > 0 && c.seen() < sent, "the queue saw only part of the traffic\n" + output);
        assertEquals(sent, c.seen() + flows.carried() + flows.killed(), output);
        assertEquals(s.sent(TAGGED), c.ruleHits().get(2), "marked packets stay per packet\n" + output);
        assertEquals(0, s.library().unresolved(), output);
        assertTrue(output.contains("connection mark set by: "), output);
        assertTrue(output.contains("packets reached the queue"), output);
        assertLeftAsFound(before);
    }

    @Test
    void aFailurePartWayRemovesEverythingItMade() {
        HostNetworkState before = HostNetworkState.read();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        IllegalStateException failure;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            failure = assertThrows(IllegalStateException.class, () -> Demo.run(Duration.ofSeconds(30), false, out,
                    () -> {
                        throw new IllegalStateException("injected failure");
                    }));
        }
        String output = bytes.toString(StandardCharsets.UTF_8);
        assertEquals("injected failure", failure.getMessage());
        assertTrue(output.contains("packets/s"), "it failed while traffic flowed\n" + output);
        assertTrue(output.contains("removed network namespaces"), output);
        List<ProcessHandle> children = ProcessHandle.current().descendants()
                .filter(p -> p.info().commandLine().orElse("").contains("io.nfqueue.samples.Udp")).toList();
        assertTrue(children.isEmpty(), "traffic programs left running: " + children);
        assertLeftAsFound(before);
    }

    private static void assertLeftAsFound(HostNetworkState before) {
        assertEquals(List.of(), HostNetworkState.demoNamespacesOf(ProcessHandle.current().pid()), "namespaces left");
        HostNetworkState after = HostNetworkState.read();
        assertEquals(before.links(), after.links(), "links in the host namespace");
        assertEquals(before.ruleset(), after.ruleset(), "rules in the host namespace");
    }

    private static DemoScenario.Flow flow(String source, int port) {
        return DemoScenario.FLOWS.stream().filter(f -> f.source().equals(source) && f.port() == port).findFirst()
                .orElseThrow();
    }
}
