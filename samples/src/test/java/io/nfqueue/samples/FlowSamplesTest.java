package io.nfqueue.samples;

import io.nfqueue.FlowOffload;
import io.nfqueue.Hook;
import io.nfqueue.QueueOptions;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.Packets;
import io.nfqueue.test.QueuedPacket;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.acceptedFlow;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static io.nfqueue.test.VerdictExpectation.droppedFlow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The flow-offload samples without a kernel: the per-flow firewall's decisions on the test kit's
 * queue (as a kernel without the conntrack glue, like this project's), the rules command's options
 * and errors, and the parsing of the flow rules' counters.
 */
class FlowSamplesTest {
    private static final FlowOffload FLOWS = FlowOffload.mask(0x0030_0000);

    /** Runs the per-flow firewall's pipeline, as firewall --per-flow does, on a queue with flow offload. */
    private static void filter(TestQueue queue, Firewall fw) {
        int offered = queue.offered().size();
        SamplePipeline sample = fw.sample();
        ReceiverOptions options = ReceiverOptions.queue(queue.queueNumber()).defaultVerdict(sample.defaultVerdict())
                .queueOptions(o -> o.flowOffload(FLOWS));
        StepVerifier.create(queue.receive(options, sample.pipeline()).take(offered))
                .expectNextCount(offered)
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    private static QueuedPacket in(byte[] packet) {
        return QueuedPacket.of(packet).hook(Hook.LOCAL_IN);
    }

    @Test
    void perFlowTheRulesAcceptOrDropWholeConnections() {
        FirewallRules rules = FirewallRules.parse("rules", List.of(
                "drop proto udp dport 7002",
                "mark=0x10 proto udp dport 7003",
                "drop proto tcp dport 23",
                "accept proto tcp dport 22"));
        Firewall fw = new Firewall(rules, false, true);
        TestQueue queue = TestQueue.create(21).withoutConntrackGlue();
        queue.offer(
                in(Packets.udp().from("10.0.0.2", 5000).to("10.0.0.1", 7001).build()),    // default drop
                in(Packets.udp().from("10.0.0.2", 5000).to("10.0.0.1", 7002).build()),    // rule 1
                in(Packets.udp().from("10.0.0.2", 5000).to("10.0.0.1", 7003).build()),    // rule 2: per packet
                in(Packets.tcp().from("10.0.0.2", 40000).to("10.0.0.1", 23).syn().build()), // rule 3
                in(Packets.tcp().from("10.0.0.2", 40001).to("10.0.0.1", 22).syn().build()), // rule 4
                in(Packets.udp().from("10.0.0.2", 5000).to("10.0.0.1", 53).payload(new byte[64]).fragment(64, false)
                        .build()));                                                        // no ports: per packet

        filter(queue, fw);

        queue.expectVerdicts(droppedFlow(), droppedFlow(), accepted().withMark(0x10), droppedFlow(), acceptedFlow(),
                dropped());
        assertEquals(6, fw.seen(), fw.report());
        assertEquals(1, fw.flowsAccepted(), fw.report());
        assertEquals(3, fw.flowsDropped(), fw.report());
        assertTrue(fw.report().startsWith("packets that reached the queue: 6; flows decided: 1 accepted, 3 dropped"),
                fw.report());
    }

    @Test
    void perFlowTheDefaultAcceptsWholeConnectionsAndPerPacketStaysTheDefault() {
        FirewallRules rules = FirewallRules.parse("rules", List.of("drop proto udp dport 7002"));
        Firewall perFlow = new Firewall(rules, true, true);
        TestQueue queue = TestQueue.create(22).withoutConntrackGlue();
        queue.offer(in(Packets.udp().to("10.0.0.1", 7001).build()), in(Packets.udp().to("10.0.0.1", 7002).build()));
        filter(queue, perFlow);
        queue.expectVerdicts(acceptedFlow(), droppedFlow());

        Firewall perPacket = new Firewall(FirewallRules.parse("rules", List.of("drop proto udp dport 7002")), true);
        TestQueue plain = TestQueue.create(23);
        plain.offer(in(Packets.udp().to("10.0.0.1", 7001).build()), in(Packets.udp().to("10.0.0.1", 7002).build()));
        SampleOnTestQueue.run(plain, perPacket.sample());
        plain.expectVerdicts(accepted(), dropped());
    }

    @Test
    void rulesPrintsTheExplainedScript() {
        SamplesUnitTest.Result r = SamplesUnitTest.run("rules", "--flow-offload", "--queue", "4", "--hook", "input",
                "--mask", "0x30");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("#!/bin/sh\n# Flow offload for queue 4 on INPUT"), r.out());
        assertTrue(r.out().contains("iptables -w -t mangle -A NFQ-FLOW-4 -m connmark --mark 0x10/0x30 -j ACCEPT"), r.out());
        assertTrue(r.out().contains("iptables -w -t filter -N NFQ-FLOW-4-SAVE"), r.out());
        assertTrue(r.out().contains("# To remove them:"), r.out());

        r = SamplesUnitTest.run("rules", "--flow-offload", "--queue", "4", "--hook", "PREROUTING", "--mode", "repeat",
                "--bypass");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("-I PREROUTING 1 -j NFQ-FLOW-4"), r.out());
        assertTrue(r.out().contains("--queue-bypass"), r.out());
        assertTrue(!r.out().contains("NFQ-FLOW-4-SAVE"), "repeat copies in mangle: " + r.out());

        r = SamplesUnitTest.run("rules", "--flow-offload", "--queue", "4", "--nft", "--connmark-by-verdict");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("nft add table inet nfq_flow_4"), r.out());
        assertTrue(!r.out().contains("ct mark set"), "no copying rules with the glue: " + r.out());
    }

    @Test
    void rulesRefusesBadOptionsInOneLine() {
        String[][] bad = {
            {"--queue", "4"},
            {"--flow-offload", "--queue", "70000"},
            {"--flow-offload", "--queue", "4", "--hook", "sideways"},
            {"--flow-offload", "--queue", "4", "--mask", "0x1"},
            {"--flow-offload", "--queue", "4", "--mask", "0xZZ"},
            {"--flow-offload", "--queue", "4", "--mask", "0x1ffffffff"},
            {"--flow-offload", "--queue", "4", "--mode", "sometimes"},
            {"--flow-offload", "--queue", "4", "--hook", "postrouting"},
            {"--flow-offload", "--queue", "4", "--install", "--remove"},
            {"--flow-offload", "--queue", "4", "--netns", "/var/run/netns/x"},
            {"--flow-offload", "--queue", "4", "--install", "--netns", "/nonexistent/ns"},
        };
        String[] says = {"--flow-offload", "--queue must be", "--hook must be input, output, forward, prerouting or "
            + "postrouting", "needs at least two bits", "--mask must be a 32-bit number", "--mask must be a 32-bit number",
            "--mode must be accept or repeat", "use --mode repeat or --nft", "exclude each other", "--netns needs --install",
            "no network namespace at"};
        for (int i = 0; i < bad.length; i++) {
            String[] args = new String[bad[i].length + 1];
            args[0] = "rules";
            System.arraycopy(bad[i], 0, args, 1, bad[i].length);
            SamplesUnitTest.Result r = SamplesUnitTest.run(args);
            assertEquals(2, r.status(), String.join(" ", args) + ": " + r.err());
            assertEquals(2, r.err().lines().count(), "one line and a hint: " + r.err());
            assertTrue(r.err().startsWith("error: rules: ") && r.err().contains(says[i]), r.err());
        }
    }

    @Test
    void firewallFlowOptionsNeedPerFlow() {
        SamplesUnitTest.Result r = SamplesUnitTest.run("firewall", "--queue", "1", "--rules", "/dev/null", "--hook",
                "output");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("go with --per-flow"), r.err());
        r = SamplesUnitTest.run("firewall", "--queue", "1", "--rules", "/dev/null", "--per-flow", "--hook", "sideways");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("--hook must be"), r.err());
        r = SamplesUnitTest.run("firewall", "--queue", "1", "--rules", "/dev/null", "--per-flow", "--hook", "prerouting");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("use --mode repeat"), r.err());
    }

    @Test
    void readsTheFlowRulesCounters() {
        String text = String.join("\n",
                "-N NFQ-FLOW-3",
                "-A NFQ-FLOW-3 -m connmark --mark 0x100000/0x300000 -c 49 1421 -j ACCEPT",
                "-A NFQ-FLOW-3 -m connmark --mark 0x200000/0x300000 -c 7 203 -j DROP",
                "-A NFQ-FLOW-3 -m connmark --mark 0x0/0x300000 -c 2 58 -j NFQUEUE --queue-num 3");
        assertEquals(new FlowSetup.Counts(49, 7, 2), FlowSetup.parseCounts(text, FLOWS));
        assertEquals(new FlowSetup.Counts(0, 0, 0), FlowSetup.parseCounts(text, FlowOffload.mask(0x30)));
        assertEquals("connection mark set by: rules (no GLUE_CT on this kernel)", FlowSetup.connmarkLine(false));
        assertEquals("connection mark set by: verdict (GLUE_CT)", FlowSetup.connmarkLine(true));
        assertThrows(IllegalArgumentException.class, () -> FlowSetup.hook("in"));
        assertEquals(List.of("nsenter", "--net=/var/run/netns/a", "iptables"),
                FlowSetup.inNamespace(Path.of("/var/run/netns/a"), List.of("iptables")));
        QueueOptions.queue(1).flowOffload(FlowSetup.offload("3145728", "repeat"));
    }
}
