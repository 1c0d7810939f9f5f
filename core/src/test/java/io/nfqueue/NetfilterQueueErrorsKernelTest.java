package io.nfqueue;

import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.Async;
import io.nfqueue.testing.ChildProcess;
import io.nfqueue.testing.ClassPaths;
import io.nfqueue.testing.HoldQueueMain;
import io.nfqueue.testing.OpenQueueMain;
import io.nfqueue.testing.QueuePolling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The errors a user meets, each with a message that says what happened and what to do:
 * a second verdict, the payload of a metadata-only packet, a queue another process owns,
 * a bind without CAP_NET_ADMIN, a kernel without conntrack support.
 */
@KernelTest
@Timeout(60)
class NetfilterQueueErrorsKernelTest {
    private static final int PORT = 9800;
    private static final int QUEUE = 19;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void secondVerdictThrowsAndTheFirstHolds() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            Udp.send(sender, "127.0.0.1", PORT, "accepted-first");
            Udp.send(sender, "127.0.0.1", PORT, "dropped-first");
            List<Packet> packets = QueuePolling.collect(queue, 2, Duration.ofSeconds(5));
            assertEquals(2, packets.size());
            Packet accepted = packets.get(0);
            Packet dropped = packets.get(1);

            accepted.accept();
            IllegalStateException e = assertThrows(IllegalStateException.class, accepted::drop);
            assertTrue(e.getMessage().contains("already has a verdict") && e.getMessage().contains("ACCEPT"), e.getMessage());
            // The second attempt comes from another thread, after the handler returned.
            dropped.drop();
            Throwable fromThread = CompletableFuture.supplyAsync(() -> {
                try {
                    dropped.accept();
                    return null;
                } catch (RuntimeException x) {
                    return x;
                }
            }, Async.THREAD_PER_TASK).get(5, TimeUnit.SECONDS);
            assertTrue(fromThread instanceof IllegalStateException, String.valueOf(fromThread));
            assertThrows(IllegalStateException.class, () -> dropped.verdict(Verdict.accept().withMark(1)));

            List<byte[]> got = Udp.receive(sink, 3, Duration.ofSeconds(1), Duration.ofSeconds(5));
            assertEquals(List.of("accepted-first"), got.stream().map(Udp::text).toList());
            assertEquals(2, queue.counters().verdictsSent(), "the second verdicts must send nothing: " + queue.counters());
            assertEquals(0, queue.poll(p -> { }, Duration.ofMillis(100)));
            assertEquals(0, queue.counters().kernelErrors(), queue.counters().toString());
        }
    }

    @Test
    void payloadOfAMetadataOnlyPacketThrowsAClearError() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).copyMode(CopyMode.META)
                     .networkNamespace(ns.path()))) {
            Udp.send(sender, "127.0.0.1", PORT, "meta only");
            List<Packet> packets = QueuePolling.collect(queue, 1, Duration.ofSeconds(5));
            assertEquals(1, packets.size());
            Packet p = packets.get(0);
            IllegalStateException e = assertThrows(IllegalStateException.class, p::payload);
            assertTrue(e.getMessage().contains("CopyMode.META") && e.getMessage().contains("CopyMode.PACKET"), e.getMessage());
            assertThrows(IllegalStateException.class, p::payloadBytes);
            assertEquals(0, p.payloadLength());
            // The kernel sends no length either in META mode (NFQA_CAP_LEN only comes with
            // COPY_PACKET, see nfqnl_build_packet_message), so the length reads 0.
            assertEquals(0, p.originalLength());
            assertFalse(p.isTruncated());
            assertEquals(Hook.LOCAL_OUT, p.hook());
            assertTrue(p.toString().contains("metadata only"), p.toString());
            p.accept();
            assertEquals("meta only", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
        }
    }

    @Test
    void queueOwnedByAnotherProcessNamesItsPid() throws Exception {
        try (ChildProcess owner = ChildProcess.java(List.of(), ChildProcess.testClassPath(), HoldQueueMain.class,
                Integer.toString(QUEUE), ns.path().toString())) {
            String[] bound = owner.awaitLine("BOUND", Duration.ofSeconds(30)).split(" ");
            long pid = Long.parseLong(bound[1]);
            assertEquals(owner.pid(), pid);
            assertEquals(pid, KernelQueues.find(ns, QUEUE).orElseThrow().portId(), "the kernel lists the child as owner");

            QueueAlreadyBoundException e = assertThrows(QueueAlreadyBoundException.class,
                    () -> NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())).close());
            assertEquals(OptionalLong.of(pid), e.ownerPid(), e.getMessage());
            assertEquals(pid, e.ownerPortId());
            assertEquals(QUEUE, e.queueNumber());
            assertTrue(e.getMessage().contains("process " + pid), e.getMessage());
            assertTrue(e.getMessage().contains("java"), "names the command too: " + e.getMessage());
            // Our failed attempt did not disturb the owner.
            assertEquals(pid, KernelQueues.find(ns, QUEUE).orElseThrow().portId());
        }
    }

    @Test
    void queueOwnedByAnotherSocketOfThisProcess() {
        try (NetfilterQueue first = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            QueueAlreadyBoundException e = assertThrows(QueueAlreadyBoundException.class,
                    () -> NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())).close());
            assertEquals(Integer.toUnsignedLong(first.handle().portId()), e.ownerPortId(), e.getMessage());
            assertEquals(QUEUE, first.stats().queueNumber(), "the first binding is untouched");
        }
    }

    @Test
    void aMissingNamespaceFileSaysHowToCreateIt() {
        Path missing = Path.of("/var/run/netns/nfqt-does-not-exist");
        NfQueueException e = assertThrows(NfQueueException.class,
                () -> NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(missing)).close());
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("ip netns add"), e.getMessage());
    }

    @Test
    void bindWithoutCapNetAdminSaysWhatToGrant() {
        List<String> prefix = List.of("ip", "netns", "exec", ns.name(), "setpriv", "--reuid=65534", "--regid=65534",
                "--clear-groups", "--inh-caps=-all", "--bounding-set=-all");
        try (ChildProcess child = ChildProcess.java(prefix, ClassPaths.libraryAndTests(), OpenQueueMain.class,
                Integer.toString(QUEUE))) {
            String line = child.awaitLine("", Duration.ofSeconds(30));
            while (!line.startsWith("FAILED") && !line.startsWith("OPENED")) {
                line = child.awaitLine("", Duration.ofSeconds(30)); // skip JVM warnings, bounded by the timeouts
            }
            assertTrue(line.startsWith("FAILED " + MissingPrivilegeException.class.getName()), line);
            assertTrue(line.contains("CAP_NET_ADMIN"), line);
        }
        assertTrue(KernelQueues.find(ns, QUEUE).isEmpty(), "nothing was bound");
    }

    @Test
    void conntrackOnAKernelWithoutItIsAnUnsupportedFeature() throws Exception {
        Optional<Boolean> supported = kernelConfig("CONFIG_NETFILTER_NETLINK_GLUE_CT");
        QueueOptions options = QueueOptions.queue(QUEUE).conntrack(true).networkNamespace(ns.path());
        if (supported.orElse(false)) {
            try (NetfilterQueue q = NetfilterQueue.open(options)) {
                assertEquals(QUEUE, q.stats().queueNumber());
            }
            return;
        }
        UnsupportedKernelFeatureException e;
        try {
            e = assertThrows(UnsupportedKernelFeatureException.class, () -> NetfilterQueue.open(options).close());
        } catch (AssertionError unknownConfig) {
            if (supported.isEmpty()) {
                return; // no kernel config to read, and binding worked: the kernel has it
            }
            throw unknownConfig;
        }
        assertTrue(e.getMessage().contains("conntrack") && e.getMessage().contains("CONFIG_NETFILTER_NETLINK_GLUE_CT"),
                e.getMessage());
        assertTrue(KernelQueues.find(ns, QUEUE).isEmpty(), "a failed bind must leave nothing bound: " + KernelQueues.all(ns));
        // The same queue binds without the option.
        try (NetfilterQueue q = NetfilterQueue.open(options.conntrack(false))) {
            assertFalse(q.options().conntrack());
        }
    }

    /** Whether the running kernel's config sets {@code name}, if the config can be read. */
    private static Optional<Boolean> kernelConfig(String name) {
        Path proc = Path.of("/proc/config.gz");
        Path boot = Path.of("/boot/config-" + System.getProperty("os.version"));
        try {
            String config;
            if (Files.exists(proc)) {
                try (InputStream in = new GZIPInputStream(Files.newInputStream(proc))) {
                    config = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } else if (Files.exists(boot)) {
                config = Files.readString(boot);
            } else {
                return Optional.empty();
            }
            return Optional.of(config.contains("\n" + name + "=y") || config.contains("\n" + name + "=m"));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
