package io.nfqueue.samples;

import io.nfqueue.Hook;
import io.nfqueue.test.Packets;
import io.nfqueue.test.QueuedPacket;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The firewall's rules, and the firewall itself on the test kit's queue (its real poll loop, no kernel, no root). */
class FirewallRulesTest {
    private static final byte[] LO = {127, 0, 0, 1};
    private static final byte[] TEN = {10, 1, 2, 3};

    private static FirewallRules.Flow udp(byte[] src, byte[] dst, int sport, int dport, Hook hook) {
        return new FirewallRules.Flow(17, src, dst, 4, sport, dport, hook);
    }

    @Test
    void firstMatchWins() {
        FirewallRules r = FirewallRules.parse("t", List.of(
                "# a comment",
                "",
                "drop proto udp dport 7002        # trailing comment",
                "mark=0x10 proto udp dport 7003",
                "drop proto tcp src 10.0.0.0/8 dir in",
                "accept proto udp dst 127.0.0.0/8 dport 7000-7100 dir out",
                "drop proto any sport 1-1023",
                "accept proto icmp"));
        assertEquals(6, r.rules().size());
        assertEquals(3, r.match(udp(LO, LO, 5000, 7002, Hook.LOCAL_OUT)).line());
        FirewallRules.Rule mark = r.match(udp(LO, LO, 5000, 7003, Hook.LOCAL_OUT));
        assertEquals(FirewallRules.Action.MARK, mark.action());
        assertEquals(0x10, mark.mark());
        assertEquals(6, r.match(udp(LO, LO, 5000, 7050, Hook.LOCAL_OUT)).line());
        assertNull(r.match(udp(LO, LO, 5000, 7050, Hook.LOCAL_IN)), "dir out only");
        assertNull(r.match(udp(LO, TEN, 5000, 7050, Hook.LOCAL_OUT)), "dst not in 127/8");
        assertEquals(5, r.match(new FirewallRules.Flow(6, TEN, LO, 4, 40000, 22, Hook.PRE_ROUTING)).line());
        assertNull(r.match(new FirewallRules.Flow(6, TEN, LO, 4, 40000, 22, Hook.LOCAL_OUT)));
        assertEquals(7, r.match(udp(TEN, LO, 53, 9, Hook.LOCAL_IN)).line());
        assertEquals(8, r.match(new FirewallRules.Flow(1, LO, LO, 4, -1, -1, Hook.LOCAL_OUT)).line());
        assertNull(r.match(new FirewallRules.Flow(47, LO, LO, 4, -1, -1, Hook.LOCAL_OUT)), "ports never match none");
        assertEquals(1, r.rules().get(0).hits().get());
        assertEquals(0, r.rules().get(3).hits().get() - 1);
    }

    @Test
    void cidrPrefixes() {
        assertTrue(FirewallRules.Cidr.parse("10.1.2.0/23").contains(TEN, 4));
        assertTrue(!FirewallRules.Cidr.parse("10.1.4.0/23").contains(TEN, 4));
        assertTrue(FirewallRules.Cidr.parse("0.0.0.0/0").contains(LO, 4));
        assertTrue(FirewallRules.Cidr.parse("127.0.0.1").contains(LO, 4));
        assertTrue(!FirewallRules.Cidr.parse("::1/128").contains(LO, 4), "other IP version");
        assertTrue(FirewallRules.Cidr.parse("fd00::/8").contains(new byte[] {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 1}, 16));
    }

    @Test
    void badLinesNameTheirLineNumber() {
        List<String[]> bad = List.of(
                new String[] {"allow proto udp", "expected accept, drop or mark"},
                new String[] {"drop proto sctp", "proto must be"},
                new String[] {"drop src 10.0.0.0/33", "prefix"},
                new String[] {"drop src example.com", "not an IP address"},
                new String[] {"drop dport 70000", "port"},
                new String[] {"drop dport 9-3", "port"},
                new String[] {"drop dport", "needs a value"},
                new String[] {"drop dir sideways", "dir must be"},
                new String[] {"drop colour red", "unknown field"},
                new String[] {"drop dport 1 dport 2", "twice"},
                new String[] {"mark=0xZZ", "mark must be"},
                new String[] {"drop src 10.0.0.0/8 dst ::1", "IP versions"});
        for (String[] b : bad) {
            UsageException e = assertThrows(UsageException.class,
                    () -> FirewallRules.parse("rules.txt", List.of("# header", "accept proto tcp", b[0])), b[0]);
            assertTrue(e.getMessage().startsWith("rules.txt line 3: "), e.getMessage());
            assertTrue(e.getMessage().contains(b[1]), e.getMessage());
        }
    }

    /** An IP packet queued at {@code hook}. */
    private static QueuedPacket at(Hook hook, byte[] packet) {
        return QueuedPacket.of(packet).hook(hook);
    }

    /** Runs the firewall's pipeline as the firewall command does over the packets offered. */
    private static void filter(TestQueue queue, Firewall fw) {
        SampleOnTestQueue.run(queue, fw.sample());
    }

    /**
     * Real packets through the firewall: protocols, ports and port ranges, address blocks of both
     * IP versions, directions by hook, a mark, the first match deciding; the counters say which
     * rule took each packet.
     */
    @Test
    void eachPacketGetsTheVerdictOfTheFirstRuleThatMatchesIt() {
        FirewallRules rules = FirewallRules.parse("rules", List.of(
                "drop proto udp dport 7002",
                "drop proto udp dst 127.0.0.0/8 dport 7100-7200 dir out",
                "mark=0x10 proto udp dport 7003",
                "drop proto tcp src 10.0.0.0/8 dir in",
                "accept proto icmp",
                "accept proto udp dport 7001",
                "drop src fd00::/8"));
        Firewall fw = new Firewall(rules, true);
        TestQueue queue = TestQueue.create(11);
        queue.offer(
                at(Hook.LOCAL_OUT, Packets.udp().from("127.0.0.1", 5000).to("127.0.0.1", 7001).payload("a").build()),
                at(Hook.LOCAL_OUT, Packets.udp().from("127.0.0.1", 5000).to("127.0.0.1", 7002).build()),
                at(Hook.LOCAL_IN, Packets.udp().from("127.0.0.1", 5000).to("127.0.0.1", 7003).build()),
                at(Hook.LOCAL_OUT, Packets.udp().from("127.0.0.1", 5000).to("127.0.0.1", 7150).build()),
                at(Hook.LOCAL_IN, Packets.udp().from("127.0.0.1", 5000).to("127.0.0.1", 7150).build()),  // dir out only
                at(Hook.PRE_ROUTING, Packets.tcp().from("10.1.2.3", 40000).to("10.0.0.1", 22).syn().build()),
                at(Hook.LOCAL_OUT, Packets.tcp().from("10.1.2.3", 40000).to("10.0.0.1", 22).syn().build()), // dir in only
                at(Hook.LOCAL_IN, Packets.icmp().from("192.0.2.9").to("10.0.0.1").echoRequest(1, 1).build()),
                at(Hook.LOCAL_IN, Packets.icmpv6().from("fd00::1").to("2001:db8::1").echoRequest(1, 1).build()),
                at(Hook.LOCAL_IN, Packets.udp().from("fd00::1", 5000).to("2001:db8::1", 7001).build()), // rule 6 first
                at(Hook.LOCAL_IN, Packets.udp().from("fd00::1", 5000).to("2001:db8::1", 53).build()),
                at(Hook.FORWARD, Packets.udp().from("fe80::1", 5000).to("2001:db8::1", 53).build()));

        filter(queue, fw);

        queue.expectVerdicts(
                accepted().unchanged(),      // rule 6
                dropped(),                   // rule 1
                accepted().withMark(0x10),   // rule 3
                dropped(),                   // rule 2
                accepted().unchanged(),      // default
                dropped(),                   // rule 4
                accepted().unchanged(),      // default
                accepted().unchanged(),      // rule 5
                accepted().unchanged(),      // rule 5: ICMPv6 is icmp too
                accepted().unchanged(),      // rule 6
                dropped(),                   // rule 7
                accepted().unchanged());     // default
        List<Long> hits = rules.rules().stream().map(r -> r.hits().get()).toList();
        assertEquals(List.of(1L, 1L, 1L, 1L, 2L, 2L, 1L), hits, fw.report());
        assertEquals(3, fw.defaultHits(), fw.report());
        assertEquals(12, fw.seen());
    }

    /**
     * With --default drop, what no rule matches is dropped, and so is what does not parse, and a
     * port rule never matches a packet without ports (a later fragment).
     */
    @Test
    void theDefaultTakesWhatNoRuleMatchesAndWhatDoesNotParse() {
        FirewallRules rules = FirewallRules.parse("rules", List.of("accept proto udp dport 53", "accept proto any sport 1-1023"));
        Firewall fw = new Firewall(rules, false);
        TestQueue queue = TestQueue.create(12);
        queue.offer(
                Packets.udp().to("10.0.0.1", 53).build(),
                Packets.udp().to("10.0.0.1", 54).build(),
                Packets.udp().to("10.0.0.1", 53).payload(new byte[64]).fragment(64, false).build(),
                Packets.udp().to("10.0.0.1", 53).brokenIpLength(10).build(),
                Packets.tcp().from("10.0.0.2", 80).to("10.0.0.1", 40000).ack().build());

        filter(queue, fw);

        queue.expectVerdicts(accepted(), dropped(), dropped(), dropped(), accepted());
        assertEquals(3, fw.defaultHits(), fw.report());
    }
}
