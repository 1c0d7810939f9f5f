package io.nfqueue.test.example;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Hook;
import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.CaptureReplay;
import io.nfqueue.test.OfferedPacket;
import io.nfqueue.test.Packets;
import io.nfqueue.test.QueuedPacket;
import io.nfqueue.test.ReplayReport;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The example project's tests: a user's firewall tested with StepVerifier and the kit, no root,
 * no kernel, no JNI library (this module's unit tests run without it on the classpath). The
 * snippets of the guide's "Testing your pipeline" are cut from here.
 */
class EdgeFirewallTest {
    private final EdgeFirewall firewall = new EdgeFirewall(Duration.ofSeconds(1));

    // snippet:first-test
    @Test
    void dnsPassesHttpsIsMarkedTelnetIsDropped() {
        TestQueue queue = TestQueue.create();
        queue.offer(Packets.udp().from("10.0.0.2", 40000).to("10.0.0.1", 53).build(),
                Packets.tcp().from("10.0.0.2", 40001).to("10.0.0.1", 443).syn().build(),
                Packets.tcp().from("10.0.0.2", 40002).to("10.0.0.1", 23).syn().build());

        StepVerifier.create(queue.receive(firewall::apply))
                .expectNextCount(2)                     // telnet was dropped, not emitted
                .then(() -> queue.expectVerdicts(accepted(), accepted().withMark(7), dropped()))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }
    // end-snippet

    @Test
    void theReadmeExample() {
        // snippet:readme
        TestQueue queue = TestQueue.create();
        queue.offer(Packets.udp().to("10.0.0.1", 53).build(), Packets.tcp().to("10.0.0.1", 23).syn().build());
        StepVerifier.create(queue.receive(firewall::apply))
                .expectNextCount(1)
                .then(() -> queue.expectVerdicts(accepted(), dropped()))
                .thenCancel()
                .verify();
        // end-snippet
    }

    // snippet:virtual-time
    @Test
    void aSlowLookupIsDecidedWithinTwoVirtualSeconds() {
        TestQueue queue = TestQueue.create();
        StepVerifier.withVirtualTime(() -> queue.receive(firewall::apply))
                .then(() -> queue.offer(Packets.udp().to("10.0.0.1", 123).build()))   // NTP: the slow lookup
                .then(queue::awaitDelivered)           // the pipeline has it: now move the clock
                .thenAwait(Duration.ofSeconds(2))
                .expectNextCount(1)
                .then(() -> queue.expectVerdicts(accepted()))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }
    // end-snippet

    // snippet:timeout
    @Test
    void aLookupSlowerThanTheVerdictTimeoutGetsTheDefaultVerdict() {
        TestQueue queue = TestQueue.create();
        EdgeFirewall stuck = new EdgeFirewall(Duration.ofMinutes(1));
        ReceiverOptions options = ReceiverOptions.queue(0).verdictTimeout(Duration.ofSeconds(5));
        StepVerifier.withVirtualTime(() -> queue.receive(options, stuck::apply))
                .then(() -> queue.offer(Packets.udp().to("10.0.0.1", 123).build()))
                .then(queue::awaitDelivered)
                .thenAwait(Duration.ofSeconds(6))
                .then(() -> queue.expectVerdicts(defaultVerdict(DefaultVerdictCause.TIMEOUT)))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }
    // end-snippet

    // snippet:metadata
    @Test
    void thePipelineSeesTheMetadataTheKernelWouldGive() {
        TestQueue queue = TestQueue.create();
        QueuedPacket fromBrowser = QueuedPacket.of(Packets.tcp().to("10.0.0.1", 443).syn().build())
                .hook(Hook.LOCAL_OUT).inDevice(0).outDevice(2).uid(1000).mark(0x10);
        queue.offer(fromBrowser);

        ReceiverOptions options = ReceiverOptions.queue(0).queueOptions(q -> q.uidGid(true));
        Packet seen = queue.receive(options, firewall::apply).blockFirst(Duration.ofSeconds(10));

        assertEquals(Hook.LOCAL_OUT, seen.hook());
        assertEquals(2, seen.outDevice());
        assertEquals(1000, seen.uid().getAsInt());
        assertEquals(0x10, seen.mark());
    }
    // end-snippet

    @Test
    void aWrongExpectationSaysWhichPacketGotWhat() {
        TestQueue queue = TestQueue.create();
        List<OfferedPacket> offered = queue.offer(Packets.tcp().to("10.0.0.1", 23).syn().build());
        Disposable running = queue.receive(firewall::apply).subscribe();
        assertTrue(queue.awaitVerdicts(1, Duration.ofSeconds(10)));
        running.dispose();
        AssertionError e = assertThrows(AssertionError.class, () -> queue.expectVerdicts(accepted()));
        assertTrue(e.getMessage().contains("expected ACCEPT by the program"), e.getMessage());
        assertTrue(e.getMessage().contains("got      DROP by the program   <-- another verdict"), e.getMessage());
        assertTrue(e.getMessage().contains(offered.get(0).toString()), e.getMessage());
    }

    @Test
    void aRecordedCaptureGoesThroughTheFirewall(@TempDir Path dir) throws Exception {
        Path capture = Path.of(EdgeFirewallTest.class.getResource("/io/nfqueue/test/pcap/lo-udp.pcap").toURI());
        // snippet:replay
        ReplayReport report = CaptureReplay.of(capture)    // lo-udp.pcap: five UDP datagrams, tcpdump -i lo
                .receiverOptions(ReceiverOptions.queue(0).verdictTimeout(Duration.ofSeconds(5)))
                .run(new EdgeFirewall(Duration.ofMillis(50))::apply);
        // #1  +0.000000s  LOCAL_IN UDP 127.0.0.1:57177 -> 127.0.0.1:47114 len=42  =>  ACCEPT by the program
        report.lines().forEach(System.out::println);
        assertEquals(5, report.count(Verdict.Kind.ACCEPT), report.summary());
        report.writePcapng(dir.resolve("verdicts.pcapng"));   // each verdict is the packet's comment in Wireshark
        // end-snippet
        assertTrue(report.lines().get(0).endsWith("len=42  =>  ACCEPT by the program"), report.lines().get(0));
        assertEquals(0, report.defaultCount(), "the lookup answered each in time");
        assertTrue(Files.size(dir.resolve("verdicts.pcapng")) > 0);
    }
}
