package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@KernelTest
@Timeout(60)
class StatsKernelTest {
    private static final int PORT = 7500;

    @Test
    void readOnlyPrintsTheQueueLineOfAnotherNamespaceWithoutBinding() {
        try (NetNamespace ns = NetNamespace.create();
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(15).networkNamespace(ns.path()))) {
            SamplesUnitTest.Result r = SamplesUnitTest.run("stats", "--read-only", "--queue", "15", "--netns",
                    ns.path().toString(), "--count", "2", "--interval", "100ms");
            assertEquals(0, r.status(), r.err());
            List<String> lines = r.out().lines().toList();
            assertEquals(2, lines.size(), r.out());
            assertTrue(lines.get(0).contains("queue 15: port id " + queue.handle().portId()), r.out());
            assertTrue(lines.get(0).contains("copy mode 2 range 65531, 0 waiting for a verdict"), r.out());
            SamplesUnitTest.Result none = SamplesUnitTest.run("stats", "--read-only", "--queue", "16", "--netns",
                    ns.path().toString(), "--count", "1");
            assertTrue(none.out().contains("queue 16: not bound"), none.out());
        }
    }

    @Test
    void bindingPassesEveryPacketAndShowsTheKernelsAndTheLibrarysCounters() throws Exception {
        int queue = 18;
        int window = 16;
        int datagrams = 20 * window;
        try (NetNamespace ns = NetNamespace.create();
             DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + queue);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
            int[] status = {-1};
            Thread stats = new Thread(() -> status[0] = Main.run(new String[] {"stats", "--queue",
                Integer.toString(queue), "--netns", ns.path().toString(), "--demand", Integer.toString(window),
                "--interval", "500ms", "--count", "6"}, out, out), "stats-test");
            stats.start();
            long until = System.nanoTime() + 20_000_000_000L;
            while (!bytes.toString(StandardCharsets.UTF_8).contains("stats: bound queue") && stats.isAlive()
                    && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("stats: bound queue"), bytes.toString());

            // Without bypass, only the bound pass-through lets these through.
            for (int i = 0; i < datagrams; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "s-" + i);
            }
            List<byte[]> got = Udp.receive(sink, datagrams, Duration.ofMillis(500), Duration.ofSeconds(10));
            stats.join(20_000);
            String output = bytes.toString(StandardCharsets.UTF_8);
            assertFalse(stats.isAlive(), output);
            assertEquals(0, status[0], output);
            assertEquals(datagrams, got.size(), output);

            List<String> lines = output.lines().toList();
            String kernel = last(lines, "  kernel ");
            String library = last(lines, "  library ");
            String flow = last(lines, "  flow ");
            // A burst twenty times the demand window: the window paces reading, not the kernel
            // queue, so every datagram was inspected (none passed uninspected by fail-open).
            Matcher lib = Pattern.compile("library  (\\d+) received, (\\d+) verdicts sent \\(accept (\\d+)\\), "
                    + "0 unresolved, 0 default verdicts").matcher(library);
            assertTrue(lib.find(), output);
            long received = Long.parseLong(lib.group(1));
            assertEquals(datagrams, received, output);
            assertEquals(received, Long.parseLong(lib.group(2)), output);
            assertEquals(received, Long.parseLong(lib.group(3)), output);
            assertTrue(kernel.contains("0 waiting for a verdict, 0 dropped (queue full), 0 dropped (socket full), "
                    + "last id " + received + ","), output);
            // The backpressure line: the max-length the kernel has, and the window that paces reading.
            Matcher m = Pattern.compile("kernel max-length (\\d+) \\((\\d+) changes\\), headroom (\\d+), drain rate "
                    + "(\\d+/s|not measured yet), demand \\d+ outstanding of a window of (\\d+)").matcher(flow);
            assertTrue(m.find(), flow);
            assertEquals(window, Integer.parseInt(m.group(5)), flow);
            ReceiverOptions defaults = ReceiverOptions.queue(queue);
            int maxLength = Integer.parseInt(m.group(1));
            assertTrue(maxLength >= defaults.maxLengthFloor() && maxLength <= defaults.maxLengthCeiling(), flow);
        }
    }

    @Test
    void aQueueOwnedByAnotherProgramIsOneLineThatPointsToReadOnly() {
        try (NetNamespace ns = NetNamespace.create();
             NetfilterQueue owner = NetfilterQueue.open(QueueOptions.queue(19).networkNamespace(ns.path()))) {
            SamplesUnitTest.Result r = SamplesUnitTest.run("stats", "--queue", "19", "--netns", ns.path().toString(),
                    "--count", "1");
            assertEquals(Main.EXIT_FAILED, r.status(), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().contains("bound by another program") && r.err().contains("--read-only"), r.err());
            assertFalse(owner.handle().isClosed());
        }
    }

    private static String last(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).reduce((a, b) -> b).orElse("(no " + prefix.trim()
                + " line)");
    }
}
