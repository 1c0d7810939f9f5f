package io.nfqueue.reactor;

import io.nfqueue.QueueStats;
import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.ChildProcess;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM to a service that holds packets: every packet it held gets the default verdict (here
 * ACCEPT, fail-open) before the process ends, whether the service disposes its subscription in a
 * shutdown hook of its own or leaves it to the library's. Without that, the socket closes with
 * the process and the kernel drops every held packet, whatever the default verdict says.
 */
@KernelTest
@Timeout(60)
class PacketReceiverShutdownKernelTest {
    private static final int PORT = 9460;
    private static final int QUEUE = 46;
    private static final int PACKETS = 40;

    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"own-hook", "library-hook"})
    void sigtermResolvesEveryHeldPacketWithTheDefaultVerdict(String hooks) throws Exception {
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT));
             ChildProcess service = ChildProcess.java(List.of(), ChildProcess.testClassPath(),
                     ShutdownReceiverMain.class, String.valueOf(QUEUE), ns.path().toString(), hooks)) {
            service.awaitLine("BOUND ", Duration.ofSeconds(30));
            for (int i = 0; i < PACKETS; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "held-" + i);
            }
            service.awaitLine("HELD " + PACKETS, Duration.ofSeconds(10));
            QueueStats before = KernelQueues.find(ns, QUEUE).orElseThrow();
            assertEquals(PACKETS, before.queued(), "the kernel holds them, waiting for verdicts: " + before);
            assertEquals(0, sink.total(), "none passed yet");

            new ProcessBuilder("kill", "-TERM", String.valueOf(service.pid())).start().waitFor();
            int status = service.awaitExit(Duration.ofSeconds(20));
            assertEquals(128 + 15, status, "ended by SIGTERM\n" + service.transcriptText());
            assertTrue(sink.awaitTotal(PACKETS, Duration.ofSeconds(5)), "every held packet got ACCEPT, the default "
                    + "verdict, and arrived: " + sink.total() + " of " + PACKETS + "\n" + service.transcriptText());
            if (hooks.equals("library-hook")) {
                // The library ended it: the subscriber is told the source completed. (Its own
                // hook cancels instead, and a cancelled subscriber is told nothing.)
                assertTrue(service.transcriptText().contains("COMPLETE"), "the subscriber saw the end: "
                        + service.transcriptText());
            }
            assertTrue(KernelQueues.find(ns, QUEUE).isEmpty(), "unbound");
        }
    }
}
