package io.nfqueue.samples;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.testing.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands run without CAP_NET_ADMIN and CAP_SYS_ADMIN (root's uid, every capability
 * dropped with setpriv): each one that needs them says so in one line and exits with status 1,
 * before it makes anything; the read-only stats, which needs no capability (only root's uid, to
 * read the 0440 proc file: see SamplesCliKernelTest for another uid), still works.
 */
@KernelTest
@Timeout(60)
class PrivilegesKernelTest {

    @Test
    void withoutCapabilitiesEachCommandSaysSoInOneLine() {
        List<List<String>> commands = List.of(
                List.of("demo", "--duration", "2s"),
                List.of("stats", "--queue", "3", "--count", "1"),
                List.of("stats", "--queue", "3", "--demand", "8", "--count", "1"),
                List.of("print", "--queue", "3", "--count", "1"),
                List.of("ratelimit", "--queue", "3", "--rate", "5", "--burst", "5", "--duration", "1s"),
                List.of("stats", "--queue", "3", "--read-only", "--count", "1"));
        List<String> args = new ArrayList<>();
        for (List<String> c : commands) {
            if (!args.isEmpty()) {
                args.add("--next");
            }
            args.addAll(c);
        }
        List<String> dropAll = List.of("setpriv", "--inh-caps=-all", "--bounding-set=-all");
        try (ChildProcess child = ChildProcess.java(dropAll, ChildProcess.testClassPath(), WithoutPrivilegeMain.class,
                args.toArray(new String[0]))) {
            child.awaitLine("END", Duration.ofSeconds(40));
            List<List<String>> results = split(child.transcriptText());
            assertEquals(commands.size(), results.size(), child.transcriptText());
            for (int i = 0; i < commands.size() - 1; i++) {
                List<String> r = results.get(i);
                String what = commands.get(i) + " -> " + r;
                assertEquals("STATUS " + Main.EXIT_FAILED, r.get(0), what);
                assertEquals(2, r.size(), "one line: " + what);
                assertTrue(r.get(1).startsWith("error: " + commands.get(i).get(0) + ": needs root (")
                        && r.get(1).contains("CAP_NET_ADMIN"), what);
                assertFalse(r.get(1).contains("Exception"), what);
            }
            assertEquals(List.of("STATUS 0"), results.get(commands.size() - 1), "--read-only needs no privilege");
            assertEquals(List.of(), HostNetworkState.demoNamespacesOf(child.pid()), "the demo made nothing");
        }
    }

    /** The child's output cut into one list per command: "STATUS n", then its stderr lines. */
    private static List<List<String>> split(String transcript) {
        List<List<String>> all = new ArrayList<>();
        for (String line : transcript.lines().toList()) {
            if (line.startsWith("STATUS ")) {
                all.add(new ArrayList<>(List.of(line)));
            } else if (line.startsWith("ERR ") && !all.isEmpty()) {
                all.get(all.size() - 1).add(line.substring(4));
            }
        }
        return all;
    }
}
