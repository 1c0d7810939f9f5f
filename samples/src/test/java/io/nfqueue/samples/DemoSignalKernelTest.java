package io.nfqueue.samples;

import io.nfqueue.test.kernel.Commands;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.testing.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ctrl-C on the demo: run {@code nfqueue-samples demo} in a JVM of its own, send it SIGINT
 * while traffic flows through its queue, and check that it removed everything it made (its
 * namespaces, link, rule and traffic programs) and exited as a JVM does on SIGINT.
 */
@KernelTest
@Timeout(60)
class DemoSignalKernelTest {
    /** A JVM that ends on a signal exits with 128 + the signal's number; SIGINT is 2. */
    private static final int EXIT_ON_SIGINT = 128 + 2;

    @Test
    void ctrlCWhileTrafficFlowsRemovesEverythingAndExits() {
        HostNetworkState before = HostNetworkState.read();
        try (ChildProcess demo = ChildProcess.java(List.of(), ChildProcess.testClassPath(), Main.class, "demo",
                "--duration", "30s")) {
            demo.awaitLine("nfqueue demo: queue " + DemoScenario.QUEUE, Duration.ofSeconds(40));
            List<ProcessHandle> traffic = ProcessHandle.of(demo.pid()).orElseThrow().descendants().toList();
            assertFalse(traffic.isEmpty(), "the demo runs its traffic programs\n" + demo.transcriptText());
            assertEquals(2, HostNetworkState.demoNamespacesOf(demo.pid()).size(), demo.transcriptText());

            Commands.run("kill", "-INT", Long.toString(demo.pid()));
            assertEquals(EXIT_ON_SIGINT, demo.awaitExit(Duration.ofSeconds(30)), demo.transcriptText());

            String output = demo.transcriptText();
            assertTrue(output.contains("stopping: cleaning up"), output);
            assertTrue(output.contains("removed network namespaces"), output);
            assertFalse(output.contains("\tat "), "no stack trace\n" + output);
            for (ProcessHandle p : traffic) {
                assertFalse(p.isAlive(), "left running: " + p.info().commandLine().orElse("pid " + p.pid()));
            }
            assertEquals(List.of(), HostNetworkState.demoNamespacesOf(demo.pid()), "namespaces left\n" + output);
        }
        HostNetworkState after = HostNetworkState.read();
        assertEquals(before.links(), after.links(), "links in the host namespace");
        assertEquals(before.ruleset(), after.ruleset(), "rules in the host namespace");
    }
}
