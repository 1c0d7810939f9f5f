package io.nfqueue.test;

import io.nfqueue.CopyMode;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Hook;
import io.nfqueue.NetfilterQueue;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.ReceiverOptions;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static io.nfqueue.test.VerdictExpectation.repeated;
import static io.nfqueue.test.VerdictExpectation.requeuedTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test queue behaves as the kernel would where a test can see it, and says clearly where it does not. */
class TestQueueTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final byte[] UDP = Packets.udp().from("192.0.2.1", 1000).to("192.0.2.2", 53).payload("q").build();

    /** The first packet the pipeline sees, after which the subscription ends (its packet: default CANCEL). */
    private static Packet firstSeen(TestQueue queue, ReceiverOptions options) {
        List<Packet> seen = new CopyOnWriteArrayList<>();
        queue.receive(options, packets -> packets.doOnNext(seen::add)).take(1).blockLast(WAIT);
        return seen.get(0);
    }

    @Test
    void metadataReachesThePipelineOnlyWhereTheBindOptionsAskForIt() {
        QueuedPacket rich = QueuedPacket.of(UDP).hook(Hook.FORWARD).inDevice(3).outDevice(4).physInDevice(5)
                .physOutDevice(6).mark(9).uid(1000).gid(100).securityContext("system_u:object_r:x:s0")
                .conntrackState(2).conntrackAttributes(new byte[] {1, 2, 3, 4}).timestamp(Instant.ofEpochSecond(1, 5000))
                .hwAddress(new byte[] {2, 0, 0, 0, 0, 1}).gso(true).checksumNotReady(true);
        TestQueue plain = TestQueue.create();
        plain.offer(rich);
        Packet p = firstSeen(plain, ReceiverOptions.queue(0).queueOptions(q -> q.gso(false)));
        assertEquals(Hook.FORWARD, p.hook());
        assertEquals(List.of(3, 4, 5, 6), List.of(p.inDevice(), p.outDevice(), p.physInDevice(), p.physOutDevice()));
        assertEquals(9, p.mark());
        assertEquals(Instant.ofEpochSecond(1, 5000), p.timestamp().orElseThrow());
        assertArrayEquals(new byte[] {2, 0, 0, 0, 0, 1}, p.hwAddress().orElseThrow());
        assertTrue(p.uid().isEmpty() && p.gid().isEmpty(), "uid/gid only with uidGid(true)");
        assertTrue(p.securityContext().isEmpty() && p.conntrackInfo().isEmpty());
        assertFalse(p.isGso(), "without the GSO option the kernel segments first");
        assertTrue(p.isChecksumNotReady());
        assertArrayEquals(UDP, p.payloadBytes());

        TestQueue asked = TestQueue.create();
        asked.offer(rich);
        Packet q = firstSeen(asked, ReceiverOptions.queue(0).queueOptions(o -> o.uidGid(true).securityContext(true)
                .conntrack(true)));
        assertEquals(1000, q.uid().getAsInt());
        assertEquals(100, q.gid().getAsInt());
        assertEquals("system_u:object_r:x:s0", q.securityContext().orElseThrow());
        assertEquals(2, q.conntrackInfo().orElseThrow().state().getAsInt());
        assertEquals(4, q.conntrackInfo().orElseThrow().attributes().remaining());
        assertTrue(q.isGso());
    }

    @Test
    void theCopyIsCutToTheCopyRangeAndMetaCopiesNone() {
        byte[] big = Packets.udp().payload(new byte[500]).build();
        TestQueue queue = TestQueue.create();
        queue.offer(big);
        Packet cut = firstSeen(queue, ReceiverOptions.queue(0).queueOptions(q -> q.copyRange(40)));
        assertEquals(40, cut.payloadLength());
        assertEquals(big.length, cut.originalLength());
        assertTrue(cut.isTruncated());

        TestQueue meta = TestQueue.create();
        meta.offer(QueuedPacket.of(big));
        Packet none = firstSeen(meta, ReceiverOptions.queue(0).queueOptions(q -> q.copyMode(CopyMode.META)));
        assertEquals(0, none.payloadLength());
        assertEquals(big.length, none.originalLength());

        TestQueue truncated = TestQueue.create();
        truncated.offer(QueuedPacket.of(big).truncatedTo(100));
        Packet t = firstSeen(truncated, ReceiverOptions.queue(0));
        assertEquals(100, t.payloadLength());
        assertEquals(big.length, t.originalLength());
    }

    @Test
    void everyKindOfVerdictReadsBackInTheUsersTerms() {
        TestQueue queue = TestQueue.create();
        byte[] rewritten = Packets.udp().to("192.0.2.9", 53).build();
        queue.offer(UDP, UDP, UDP, UDP, UDP, UDP);
        Verdict[] verdicts = {Verdict.accept(), Verdict.drop(), Verdict.repeat().withMark(1), Verdict.requeue(5),
            Verdict.accept().withPayload(rewritten), Verdict.drop().withMark(3)};
        queue.receive(packets -> packets.doOnNext(p -> p.verdict(verdicts[p.id() - 1]))).take(6).blockLast(WAIT);
        queue.expectVerdicts(accepted().unchanged(), dropped(), repeated().withMark(1), requeuedTo(5),
                accepted().withPayload(rewritten), dropped().withMark(3));
        for (GivenVerdict g : queue.verdicts()) {
            assertEquals(verdicts[g.packet().id() - 1], g.verdict());
            assertTrue(g.byProgram());
        }
        assertEquals("", queue.exactlyOnceProblems());
    }

    @Test
    void aBurstOfAcceptsSentAsBatchVerdictsCountsOnceForEachPacket() {
        TestQueue queue = TestQueue.create();
        for (int i = 0; i < 300; i++) {
            queue.offer(UDP);
        }
        queue.receive(packets -> packets.doOnNext(Packet::accept)).take(300).blockLast(WAIT);
        assertTrue(queue.awaitVerdicts(300, WAIT));
        assertEquals(300, queue.verdicts().size());
        assertTrue(queue.verdicts().stream().allMatch(g -> g.verdict().equals(Verdict.accept()) && g.byProgram()));
        assertEquals("", queue.exactlyOnceProblems());
    }

    @Test
    void packetsOfferedBeforeTheSubscriptionWaitForItAndTheEndGivesTheRestTheDefault() {
        TestQueue queue = TestQueue.create();
        queue.offer(UDP, UDP, UDP);
        assertFalse(queue.isBound());
        StepVerifier.create(queue.receive(packets -> packets), 1)
                .expectNextCount(1)
                .then(() -> assertTrue(queue.isBound()))
                .thenCancel()
                .verify(WAIT);
        assertTrue(queue.awaitVerdicts(1, WAIT));
        assertFalse(queue.isBound());
        // The first, emitted and cancelled, got the default because of CANCEL; the other two, still in
        // the socket, were read as the queue closed and got it because of CLOSE (nothing is left to
        // the kernel, which would drop them).
        queue.expectVerdicts(defaultVerdict(DefaultVerdictCause.CANCEL), defaultVerdict(DefaultVerdictCause.CLOSE),
                defaultVerdict(DefaultVerdictCause.CLOSE));
    }

    @Test
    void packetsOfferedWhileNothingIsBoundWaitForTheNextBinding() {
        TestQueue queue = TestQueue.create();
        queue.receive(packets -> packets.doOnNext(Packet::accept)).take(1).subscribe();
        queue.offer(UDP);
        assertTrue(queue.awaitVerdicts(1, WAIT));
        assertTrue(awaitUnbound(queue));
        queue.offer(UDP);
        queue.receive(packets -> packets.doOnNext(Packet::drop)).take(1).blockLast(WAIT);
        queue.expectVerdicts(accepted(), dropped());
    }

    private static boolean awaitUnbound(TestQueue queue) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (queue.isBound() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        return !queue.isBound();
    }

    @Test
    void oneBindingAtATimeAsInTheKernel() {
        TestQueue queue = TestQueue.create();
        Disposable first = queue.receive(packets -> packets).subscribe();
        try {
            StepVerifier.create(queue.receive(packets -> packets))
                    .expectErrorSatisfies(e -> {
                        assertEquals(IllegalStateException.class, e.getClass());
                        assertTrue(e.getMessage().contains("already bound"), e.getMessage());
                    })
                    .verify(WAIT);
        } finally {
            first.dispose();
        }
    }

    @Test
    void theBlockingApiRunsOverTheTestQueueToo() {
        try (TestQueue queue = TestQueue.create(7); NetfilterQueue nfq = queue.open(QueueOptions.queue(7))) {
            queue.offer(UDP, UDP);
            int handled = 0;
            for (int i = 0; i < 100 && handled < 2; i++) {
                handled += nfq.poll(p -> {
                    if (p.id() == 1) {
                        p.accept();
                    } else {
                        p.drop();
                    }
                }, Duration.ofMillis(100));
            }
            queue.expectVerdicts(accepted(), dropped());
        }
    }

    @Test
    void aDifferentNumberOfPacketsAndExpectationsFailsAndSaysSo() {
        TestQueue queue = TestQueue.create().waitAtMost(Duration.ofMillis(100));
        queue.offer(UDP);
        queue.receive(packets -> packets.doOnNext(Packet::accept)).take(1).blockLast(WAIT);
        AssertionError e = assertThrows(AssertionError.class, () -> queue.expectVerdicts(accepted(), accepted()));
        assertTrue(e.getMessage().contains("1 offered, 2 expected"), e.getMessage());
        assertTrue(e.getMessage().contains("never offered"), e.getMessage());
    }

    @Test
    void badArgumentsFailAtOnceWithWhatIsWrong() {
        TestQueue queue = TestQueue.create(3);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> queue.receiver(ReceiverOptions.queue(4)))
                .getMessage().contains("this test queue is queue 3"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> queue.bind(QueueOptions.queue(3)
                .networkNamespace(Path.of("/var/run/netns/x")))).getMessage().contains("no network namespace"));
        assertThrows(IllegalArgumentException.class, () -> TestQueue.create(70000));
        assertThrows(IllegalArgumentException.class, () -> QueuedPacket.of(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> QueuedPacket.of(UDP).hook(Hook.UNKNOWN));
        assertThrows(IllegalArgumentException.class, () -> QueuedPacket.of(UDP).truncatedTo(UDP.length));
        assertThrows(IllegalArgumentException.class, () -> QueuedPacket.of(UDP).inDevice(-1));
        assertThrows(IllegalArgumentException.class, () -> QueuedPacket.of(UDP).hwAddress(new byte[9]));
        assertThrows(IllegalArgumentException.class, () -> VerdictExpectation.requeuedTo(65536));
        assertThrows(NullPointerException.class, () -> queue.offer((byte[]) null));
    }
}
