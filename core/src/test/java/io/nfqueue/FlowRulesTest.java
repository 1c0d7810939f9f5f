package io.nfqueue;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rule texts; that they work is FlowOffloadKernelTest's job. */
class FlowRulesTest {
    private static final FlowOffload FLOWS = FlowOffload.mask(0x0030_0000);

    private static List<String> commands(FlowRules.RuleSet set, FlowRules.Role role) {
        return set.install().stream().filter(r -> r.role() == role).map(FlowRules.Rule::command).toList();
    }

    @Test
    void acceptModeQueuesInMangleOnlyUndecidedConnectionsAndCopiesTheMarkInFilter() {
        FlowRules.RuleSet set = FlowRules.forQueue(7).hook(Hook.LOCAL_IN).offload(FLOWS).iptables();
        assertEquals(List.of(
                "iptables -w -t mangle -A NFQ-FLOW-7 -m connmark --mark 0/0x300000 -j NFQUEUE --queue-num 7",
                "ip6tables -w -t mangle -A NFQ-FLOW-7 -m connmark --mark 0/0x300000 -j NFQUEUE --queue-num 7"),
                commands(set, FlowRules.Role.QUEUE));
        assertEquals(List.of(
                "iptables -w -t mangle -A NFQ-FLOW-7 -m connmark --mark 0x100000/0x300000 -j ACCEPT",
                "ip6tables -w -t mangle -A NFQ-FLOW-7 -m connmark --mark 0x100000/0x300000 -j ACCEPT"),
                commands(set, FlowRules.Role.SKIP_ACCEPTED));
        List<String> saves = commands(set, FlowRules.Role.SAVE);
        assertTrue(saves.contains("iptables -w -t filter -A NFQ-FLOW-7-SAVE -m mark --mark 0x100000/0x300000 -j CONNMARK "
                + "--set-xmark 0x100000/0x300000"), saves.toString());
        assertTrue(commands(set, FlowRules.Role.DECIDED).contains(
                "iptables -w -t filter -A NFQ-FLOW-7-SAVE -m mark --mark 0x200000/0x300000 -j DROP"));
        assertTrue(commands(set, FlowRules.Role.JUMP).contains("iptables -w -t mangle -I INPUT 1 -j NFQ-FLOW-7"));
        // The skip rules come before the queue rule, or decided connections are queued anyway.
        List<FlowRules.Role> order = set.install().stream().filter(r -> r.argv().get(0).equals("iptables")
                && r.argv().contains("NFQ-FLOW-7") && r.argv().contains("-A")).map(FlowRules.Rule::role).toList();
        assertEquals(List.of(FlowRules.Role.SKIP_ACCEPTED, FlowRules.Role.SKIP_DROPPED, FlowRules.Role.QUEUE), order);
        assertTrue(set.remove().stream().map(FlowRules.Rule::command).collect(Collectors.toList())
                .contains("iptables -w -t filter -X NFQ-FLOW-7-SAVE"));
        assertFalse(set.script().contains(" nat "), "never nat");
    }

    @Test
    void repeatModeSavesAtTheHeadOfTheOneChainAndLetsTheMarkedPacketGoByItsOwnMark() {
        FlowRules.RuleSet set = FlowRules.forQueue(1).hook(Hook.PRE_ROUTING).offload(FLOWS.mode(FlowOffload.Mode.REPEAT))
                .bypass(true).iptables();
        List<FlowRules.Role> order = set.install().stream().filter(r -> r.argv().get(0).equals("iptables")
                && r.argv().contains("-A")).map(FlowRules.Rule::role).toList();
        assertEquals(List.of(FlowRules.Role.SAVE, FlowRules.Role.DECIDED, FlowRules.Role.SAVE, FlowRules.Role.DECIDED,
                FlowRules.Role.SKIP_ACCEPTED, FlowRules.Role.SKIP_DROPPED, FlowRules.Role.QUEUE), order);
        assertTrue(commands(set, FlowRules.Role.QUEUE).get(0).endsWith("--queue-num 1 --queue-bypass"));
        assertFalse(set.script().contains("-t filter"), "one table in REPEAT mode");
    }

    @Test
    void acceptModeOnPreroutingIsRefusedForIptablesSinceOnlyNatFollowsMangle() {
        FlowRules rules = FlowRules.forQueue(0).hook(Hook.PRE_ROUTING).offload(FLOWS);
        assertTrue(assertThrows(IllegalStateException.class, rules::iptables).getMessage().contains("REPEAT"));
        assertTrue(rules.nft().script().contains("hook prerouting priority 10"), rules.nft().script());
        assertThrows(IllegalArgumentException.class, () -> rules.hook(Hook.UNKNOWN));
    }

    @Test
    void nftUsesOneInetTableWithTheSaveChainAfterTheQueueChain() {
        FlowRules.RuleSet set = FlowRules.forQueue(4).hook(Hook.LOCAL_OUT).offload(FLOWS).nft();
        assertEquals(List.of("nft add rule inet nfq_flow_4 decide ct mark and 0x300000 == 0x0 queue num 4"),
                commands(set, FlowRules.Role.QUEUE));
        assertTrue(commands(set, FlowRules.Role.SAVE).contains("nft add rule inet nfq_flow_4 save meta mark and 0x300000 "
                + "== 0x100000 ct mark set ct mark and 0xffcfffff or 0x100000"));
        assertTrue(set.script().contains("'{' type filter hook output priority -150 ';' policy accept ';' '}'"),
                set.script());
        assertTrue(set.without(FlowRules.Role.QUEUE).install().stream().noneMatch(r -> r.role() == FlowRules.Role.QUEUE));
        assertEquals(List.of("nft delete table inet nfq_flow_4"),
                set.remove().stream().map(FlowRules.Rule::command).toList());
    }

    @Test
    void nftRemembersAConnectionDroppedOnItsFirstPacketInASetWithATimeout() {
        for (FlowOffload.Mode mode : FlowOffload.Mode.values()) {
            FlowRules.RuleSet set = FlowRules.forQueue(4).offload(FLOWS.mode(mode)).nft();
            List<String> all = set.install().stream().map(FlowRules.Rule::command).toList();
            assertTrue(all.contains("nft add set inet nfq_flow_4 dropped4 '{' type ipv4_addr . inet_proto . ipv4_addr . "
                    + "inet_service . inet_service ';' flags timeout ';' timeout 120s ';' '}'"), set.script());
            assertTrue(all.stream().anyMatch(c -> c.startsWith("nft add set inet nfq_flow_4 dropped6 '{' type ipv6_addr")));
            String chain = mode == FlowOffload.Mode.REPEAT ? "decide" : "save";
            String add4 = "nft add rule inet nfq_flow_4 " + chain + " meta mark and 0x300000 == 0x200000 ct status and "
                    + "confirmed == 0 meta l4proto '{' tcp, udp '}' add @dropped4 '{' ip saddr . meta l4proto . ip daddr . "
                    + "th sport . th dport '}'";
            assertTrue(all.contains(add4), set.script());
            int dropByMark = indexOf(all, chain + " meta mark and 0x300000 == 0x200000 ct mark set");
            assertTrue(all.indexOf(add4) < dropByMark, "remembered before the packet is dropped:\n" + set.script());
            int check = indexOf(all, "decide ip saddr . meta l4proto . ip daddr . th sport . th dport @dropped4 "
                    + "update @dropped4");
            assertTrue(check >= 0 && check < indexOf(all, "queue num 4"), "checked before the queue:\n" + set.script());
            assertTrue(indexOf(all, "decide ip6 saddr") >= 0, set.script());
        }
        assertEquals(List.of("nft flush set inet nfq_flow_4 dropped4", "nft flush set inet nfq_flow_4 dropped6"),
                FlowRules.forQueue(4).offload(FLOWS).nft().forget().stream().map(FlowRules.Rule::command).toList());
        assertEquals(List.of(), FlowRules.forQueue(4).offload(FLOWS).iptables().forget());
        FlowRules.RuleSet glue = FlowRules.forQueue(4).offload(FLOWS).connmarkByVerdict(true).nft();
        assertTrue(glue.script().lines().noneMatch(l -> l.contains("@dropped")),
                "with the glue no rule sees the dropped packet: no sets\n" + glue.script());
    }

    private static int indexOf(List<String> commands, String part) {
        for (int i = 0; i < commands.size(); i++) {
            if (commands.get(i).contains(part)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void aMatchNarrowsTheJumpInIptablesAndEveryDecideRuleInNft() {
        FlowRules rules = FlowRules.forQueue(2).offload(FLOWS).match(FlowMatch.udpDestinationPort(53));
        FlowRules.RuleSet ipt = rules.iptables();
        assertTrue(commands(ipt, FlowRules.Role.JUMP).contains(
                "iptables -w -t mangle -I INPUT 1 -p udp --dport 53 -j NFQ-FLOW-2"), ipt.script());
        assertTrue(ipt.remove().stream().map(FlowRules.Rule::command).toList()
                .contains("ip6tables -w -t mangle -D INPUT -p udp --dport 53 -j NFQ-FLOW-2"));
        FlowRules.RuleSet nft = rules.nft();
        assertEquals(List.of("nft add rule inet nfq_flow_2 decide udp dport 53 ct mark and 0x300000 == 0x0 queue num 2"),
                commands(nft, FlowRules.Role.QUEUE));
        assertTrue(commands(nft, FlowRules.Role.SKIP_ACCEPTED).get(0).contains("decide udp dport 53 ct mark"));
        assertTrue(nft.script().contains("only packets of FlowMatch[iptables -p udp --dport 53; nft udp dport 53]"));
    }

    @Test
    void matchesAreCheckedWhenMade() {
        assertThrows(IllegalArgumentException.class, () -> FlowMatch.tcpDestinationPort(0));
        assertThrows(IllegalArgumentException.class, () -> FlowMatch.udpDestinationPort(65536));
        assertThrows(IllegalArgumentException.class, () -> FlowMatch.custom(List.of(), List.of("iifname", "eth0")));
        assertThrows(IllegalArgumentException.class, () -> FlowMatch.custom(List.of("-i", " "), List.of("iifname", "eth0")));
        assertThrows(IllegalArgumentException.class, () -> FlowMatch.custom(List.of("-i", "eth0"), List.of("iifname\n")));
        FlowMatch m = FlowMatch.custom(List.of("-i", "eth0"), List.of("iifname", "eth0"));
        assertEquals(List.of("-i", "eth0"), m.iptablesArgs());
        assertEquals(FlowMatch.tcpDestinationPort(443), FlowMatch.tcpDestinationPort(443));
    }

    @Test
    void repeatModeRefusesToQueueFromAnotherChain() {
        FlowRules.RuleSet set = FlowRules.forQueue(0).offload(FLOWS.mode(FlowOffload.Mode.REPEAT)).nft();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> set.without(FlowRules.Role.QUEUE));
        assertTrue(e.getMessage().contains("REPEAT"), e.getMessage());
        assertFalse(set.without(FlowRules.Role.JUMP).install().isEmpty());
    }

    @Test
    void aKernelThatTakesTheConnectionMarkInTheVerdictNeedsNoCopyingRules() {
        FlowRules rules = FlowRules.forQueue(0).offload(FLOWS).connmarkByVerdict(true);
        for (FlowRules.RuleSet set : List.of(rules.iptables(), rules.nft(),
                rules.offload(FLOWS.mode(FlowOffload.Mode.REPEAT)).iptables())) {
            assertTrue(commands(set, FlowRules.Role.SAVE).isEmpty(), set.script());
            assertTrue(commands(set, FlowRules.Role.DECIDED).isEmpty(), set.script());
            assertFalse(commands(set, FlowRules.Role.SKIP_ACCEPTED).isEmpty(), set.script());
            assertFalse(commands(set, FlowRules.Role.SKIP_DROPPED).isEmpty(), set.script());
        }
    }

    @Test
    void everyRuleSaysWhyAndTheScriptQuotesWhatTheShellWouldMisread() {
        FlowRules.RuleSet set = FlowRules.forQueue(0).offload(FLOWS).nft();
        assertTrue(set.install().stream().allMatch(r -> !r.why().isBlank()));
        assertEquals("'a b'", FlowRules.shellQuote("a b"));
        assertEquals("0x10/0x30", FlowRules.shellQuote("0x10/0x30"));
        assertEquals("'it'\\''s'", FlowRules.shellQuote("it's"));
    }
}
