package io.nfqueue;

import io.nfqueue.packet.ChecksumStatus;
import io.nfqueue.packet.PacketParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BoundQueue#openSynthetic} and {@link NetfilterQueue#warmUp}: the native library's
 * synthetic handle, no kernel queue and no privilege needed. What the packets look like, that
 * their verdicts go through the real encoding (a bad one is refused as on a real queue), that a
 * warm-up handles the packets it was asked for and leaves none open.
 */
@Timeout(60)
class SyntheticQueueTest {
    @Test
    void packetsAreTheFourKindsWithCorrectChecksumsAndCountingIds() {
        PacketParser parser = new PacketParser();
        List<String> kinds = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        List<Integer> marks = new ArrayList<>();
        try (BoundQueue queue = BoundQueue.openSynthetic(QueueOptions.queue(3), 8)) {
            int n = queue.receive(p -> {
                parser.parse(p);
                kinds.add("v" + parser.ipVersion() + (parser.isTcp() ? "/tcp" : parser.isUdp() ? "/udp" : "/other")
                        + " " + parser.sourcePort() + ">" + parser.destinationPort());
                // The second four are as this host sends them: the kernel fills the checksum in later.
                boolean notReady = p.id() > 4;
                assertEquals(notReady, p.isChecksumNotReady(), "checksum-not-ready of " + p);
                assertEquals(notReady ? ChecksumStatus.UNVERIFIABLE : ChecksumStatus.VALID, parser.transportChecksumStatus(),
                        "transport checksum of " + p);
                if (parser.isIpv4()) {
                    assertEquals(ChecksumStatus.VALID, parser.ipChecksumStatus(), "IPv4 header checksum of " + p);
                }
                assertEquals(3, p.queueNumber());
                assertEquals(Hook.FORWARD, p.hook());
                assertEquals(1, p.inDevice());
                assertEquals(1, p.outDevice());
                assertEquals(p.payloadLength(), p.originalLength());
                ids.add(p.id());
                marks.add(p.mark());
                p.accept();
            }, 8);
            assertEquals(8, n);
            assertEquals(8, queue.counters().received());
        }
        assertEquals(List.of("v4/udp 40000>5001", "v4/tcp 40000>5001", "v6/udp 40000>5001", "v6/tcp 40000>5001",
                "v4/udp 40000>5001", "v4/tcp 40000>5001", "v6/udp 40000>5001", "v6/tcp 40000>5001"), kinds);
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), ids);
        assertEquals(List.of(0, 0x10, 0, 0x10, 0, 0x10, 0, 0x10), marks);
    }

    @Test
    void readsComeInVaryingSizesAsFromARealSocket() {
        List<Integer> sizes = new ArrayList<>();
        try (BoundQueue queue = BoundQueue.openSynthetic(QueueOptions.queue(3).batchSize(8), 88)) {
            for (int i = 0; i < 16; i++) {
                sizes.add(queue.receive(Packet::accept, 8));
            }
        }
        assertEquals(List.of(8, 1, 8, 4, 8, 1, 8, 4, 8, 1, 8, 4, 8, 1, 8, 0), sizes);
    }

    @Test
    void afterItsPacketsTheQueueIsIdleAndClosesWithoutDefaults() {
        BoundQueue queue = BoundQueue.openSynthetic(QueueOptions.queue(3).batchSize(16), 5);
        assertTrue(queue.awaitReadable(0), "packets left: readable at once");
        assertEquals(5, queue.receive(Packet::accept, 16));
        assertEquals(0, queue.receive(Packet::accept, 16));
        long start = System.nanoTime();
        assertFalse(queue.awaitReadable(30), "nothing left: the wait runs to its timeout");
        assertTrue(System.nanoTime() - start >= 25_000_000L, "waited, not spun");
        queue.close();
        assertEquals(0, queue.counters().totalDefaultVerdicts(), queue.counters().toString());
        assertEquals(5, queue.counters().verdictsSent());
    }

    @Test
    void theCopyRangeCutsPayloadsAsTheKernelWould() {
        try (BoundQueue queue = BoundQueue.openSynthetic(QueueOptions.queue(3).copyRange(30), 4)) {
            queue.receive(p -> {
                assertEquals(30, p.payloadLength());
                assertTrue(p.isTruncated(), "a 30-byte copy of a longer packet");
                assertTrue(p.originalLength() > 30);
                p.accept();
            }, 4);
        }
        try (BoundQueue queue = BoundQueue.openSynthetic(QueueOptions.queue(3).copyMode(CopyMode.META), 4)) {
            AtomicInteger seen = new AtomicInteger();
            queue.receive(p -> {
                assertThrows(IllegalStateException.class, p::payload);
                seen.incrementAndGet();
                p.drop();
            }, 4);
            assertEquals(4, seen.get());
        }
    }

    @Test
    void everyKindOfVerdictIsEncodedAndTakenAndNothingIsLeftOpen() {
        try (BoundQueue queue = BoundQueue.openSynthetic(QueueOptions.queue(3).batchSize(64), 64)) {
            int n = queue.receive(p -> {
                switch (p.id() % 5) {
                    case 0 -> p.accept();
                    case 1 -> p.drop();
                    case 2 -> p.verdict(Verdict.accept().withMark(7));
                    case 3 -> p.verdict(Verdict.accept().withPayload(p.payloadBytes()));
                    default -> p.repeat();
                }
            }, 64);
            assertEquals(64, n);
            queue.flush();
            QueueCounters c = queue.counters();
            assertEquals(64, c.received());
            assertEquals(0, c.unresolved(), "every packet resolved: " + c);
            assertEquals(0, c.sendFailures(), "every verdict was encoded and taken: " + c);
            assertEquals(64, c.verdictsSent(), c.toString());
        }
    }

    @Test
    void theNamespaceAndFlowOffloadAreLeftOut() {
        QueueOptions options = QueueOptions.queue(4).networkNamespace(Path.of("/nonexistent/netns"))
                .flowOffload(FlowOffload.mask(0x3));
        try (BoundQueue queue = BoundQueue.openSynthetic(options, 1)) {
            assertTrue(queue.options().networkNamespace().isEmpty());
            assertTrue(queue.options().flowOffload().isEmpty());
            assertFalse(queue.connmarkByVerdict());
            assertEquals(1, queue.receive(Packet::accept, 1));
        }
    }

    @Test
    void warmUpHandlesAtLeastTheGivenPacketsAndLeavesNoneOpen() {
        AtomicInteger handled = new AtomicInteger();
        Duration took = NetfilterQueue.warmUp(QueueOptions.queue(5).batchSize(100), 1050, p -> {
            handled.incrementAndGet();
            p.accept();
        });
        assertEquals(1050, handled.get(), "the synthetic queue hands out exactly as many packets as asked");
        assertTrue(took.toNanos() > 0);
    }

    @Test
    void warmUpRefusesBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NetfilterQueue.warmUp(QueueOptions.queue(5), 0));
        assertEquals("warm-up packets must be at least 1: 0", e.getMessage());
        assertThrows(NullPointerException.class, () -> NetfilterQueue.warmUp(null, 10));
        assertThrows(NullPointerException.class, () -> NetfilterQueue.warmUp(QueueOptions.queue(5), 10, null));
    }

    @Test
    void aHandlerThatLeavesPacketsOpenGetsThemDefaultedAtTheEnd() {
        List<Packet> kept = new ArrayList<>();
        NetfilterQueue.warmUp(QueueOptions.queue(6).batchSize(10), 10, kept::add);
        assertEquals(10, kept.size());
        for (Packet p : kept) {
            assertTrue(p.isResolved(), "packet " + p.id() + " got the default verdict at the warm-up's end");
        }
    }
}
