package io.nfqueue.samples;

import io.nfqueue.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@KernelTest
@Timeout(60)
class DemoKernelTest {

    @Test
    void demoSeesPacketsGivesVerdictsAndRemovesItsNamespace() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DemoSummary s;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            s = Demo.run(Duration.ofSeconds(3), out);
        }
        String output = bytes.toString(StandardCharsets.UTF_8);

        int expected = 3 * Demo.RATE;
        assertEquals(OptionalInt.of(expected), s.sent(), "the generator did not finish:\n" + output);
        assertEquals(expected, s.seen(), output);
        assertEquals(expected / 5, s.dropped(), "every 5th datagram is dropped:\n" + output);
        assertEquals(expected - expected / 5, s.accepted(), output);
        assertEquals(OptionalInt.of(s.accepted()), s.arrived(), "exactly the accepted datagrams arrive:\n" + output);

        assertNotNull(s.kernel(), output);
        assertEquals(Demo.QUEUE, s.kernel().queueNumber());
        assertEquals(0, s.kernel().queued(), "the kernel still holds packets:\n" + output);
        assertEquals(expected, s.kernel().lastPacketId(), output);

        assertTrue(output.contains("demo-1  ACCEPT") && output.contains("demo-5  DROP"), output);
        assertTrue(output.contains("summary: " + expected + " packets seen"), output);
        String ours = DemoNamespace.PREFIX + ProcessHandle.current().pid() + "-";
        assertTrue(s.namespace().startsWith(ours), s.namespace());
        List<String> left = DemoNamespace.existing();
        assertTrue(left.stream().noneMatch(n -> n.startsWith(ours)), "demo namespace left behind: " + left);
    }
}
