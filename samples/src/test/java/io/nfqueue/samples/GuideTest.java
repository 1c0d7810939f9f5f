package io.nfqueue.samples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What docs/guide.md says about the samples matches what they do: the systemd unit
 * runs a dns-block command line the CLI accepts, with the rules its --help shows for both IP
 * families, and treats SIGTERM's exit status as success; Troubleshooting points to a command
 * that works on a bound queue and gives counters() its type.
 */
class GuideTest {
    private static String guide() throws IOException {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (int i = 0; i < 3 && dir != null; i++, dir = dir.getParent()) {
            Path guide = dir.resolve("docs/guide.md");
            if (Files.exists(guide)) {
                return Files.readString(guide);
            }
        }
        throw new IllegalStateException("docs/guide.md not found above " + System.getProperty("user.dir"));
    }

    private static String unit(String guide) {
        int start = guide.indexOf("# /etc/systemd/system/dns-block.service");
        assertTrue(start >= 0, "the guide has the dns-block unit");
        return guide.substring(start, guide.indexOf("```", start));
    }

    @Test
    void theSystemdUnitRunsWhatTheCliAcceptsWithBothFamiliesRules() throws IOException {
        String unit = unit(guide());
        assertTrue(unit.contains("\nSuccessExitStatus=143\n"), "SIGTERM's 143 is a clean stop:\n" + unit);
        String help = SamplesUnitTest.run("dns-block", "--help").out();
        for (String family : List.of("iptables", "ip6tables")) {
            String helpRule = help.lines().map(String::trim).filter(l -> l.startsWith(family + " -A OUTPUT"))
                    .findFirst().orElseThrow(() -> new AssertionError(family + " rule in --help:\n" + help));
            String rule = helpRule.replace("-A ", "-w -A ").replace("--queue-num N", "--queue-num 1");
            assertTrue(unit.contains("ExecStartPre=+/bin/sh -c '" + family + " -w -C "
                    + rule.substring((family + " -w -A ").length())), family + " check-then-add in the unit:\n" + unit);
            assertTrue(unit.contains("|| " + rule + "'"), family + " rule in the unit:\n" + unit);
        }
        String exec = unit.lines().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
        String[] words = exec.substring(exec.indexOf("nfqueue-samples.jar ") + "nfqueue-samples.jar ".length()).split(" ");
        assertEquals("dns-block", words[0]);
        String[] withHelp = Arrays.copyOf(words, words.length + 1);
        withHelp[words.length] = "--help";
        SamplesUnitTest.Result r = SamplesUnitTest.run(withHelp);
        assertEquals(0, r.status(), "the unit's command line parses: " + exec + "\n" + r.err());
    }

    @Test
    void troubleshootingPointsToCommandsThatWork() throws IOException {
        String guide = guide();
        String row = guide.lines().filter(l -> l.startsWith("| `QueueAlreadyBoundException`")).findFirst().orElseThrow();
        assertTrue(row.contains("stats --read-only --queue N"), row);
        assertFalse(row.contains("(`stats --queue N`)"), "plain stats binds, and fails on a bound queue: " + row);
        assertFalse(guide.contains("`PacketReceiver.counters()` (`QueueCounters`)"), "counters() returns a list");
        assertTrue(guide.contains("`PacketReceiver.counters()` (a\n`List<QueueCounters>`"), "counters() returns a list");
        assertTrue(guide.contains("ip6tables -A OUTPUT -p udp --dport 53 -j NFQUEUE --queue-num 1 --queue-bypass"),
                "the Rules section queues IPv6 DNS too");
        assertTrue(guide.contains("mode 0440"), "the guide says --read-only needs root");
    }
}
