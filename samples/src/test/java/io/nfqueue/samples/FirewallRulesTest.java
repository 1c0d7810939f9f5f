package io.nfqueue.samples;

import io.nfqueue.Hook;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
