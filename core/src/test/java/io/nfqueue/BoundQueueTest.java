package io.nfqueue;

import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.ConfigureCall;
import io.nfqueue.internal.fake.FakePacket;
import io.nfqueue.internal.fake.FakeTransport;
import io.nfqueue.internal.fake.SentVerdict;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding of packet records and encoding of verdict records, over {@link FakeTransport}. */
@Timeout(30)
class BoundQueueTest {
    private static final int Q = 7;
    private final NativeConstants k = NativeConstants.get();
    private final FakeTransport fake = new FakeTransport();
    private BoundQueue queue;

    private BoundQueue open(QueueOptions options) {
        queue = BoundQueue.open(options, fake);
        return queue;
    }

    @AfterEach
    void tearDown() {
        if (queue != null) {
            queue.close();
        }
        assertEquals(List.of(), fake.violations(), "Transport contract");
    }

    private List<Packet> receiveAll(int limit) {
        List<Packet> got = new ArrayList<>();
        queue.receive(got::add, limit);
        return got;
    }

    @Test
    void bindSendsOneConfigMessageWithEverySetting() {
        open(QueueOptions.queue(Q).copyRange(1500).maxLength(333).failOpen(true).gso(false).conntrack(true)
                .uidGid(true).securityContext(true));
        List<ConfigureCall> calls = fake.configureCalls();
        assertEquals(1, calls.size(), calls.toString());
        ConfigureCall c = calls.get(0);
        int all = k.flagFailOpen | k.flagGso | k.flagConntrack | k.flagUidGid | k.flagSecctx;
        assertEquals(new ConfigureCall(Q, k.cmdBind, k.copyPacket, 1500, 333,
                k.flagFailOpen | k.flagConntrack | k.flagUidGid | k.flagSecctx, all, true), c);
    }

    @Test
    void bindMapsCopyModesAndDefaultFlags() {
        open(QueueOptions.queue(Q).copyMode(CopyMode.META));
        ConfigureCall c = fake.configureCalls().get(0);
        assertEquals(k.copyMeta, c.copyMode());
        assertEquals(k.flagGso, c.flags(), "GSO on by default, every other flag off");
        assertTrue((c.mask() & k.flagFailOpen) != 0, "fail-open is cleared explicitly, not left as it was");
        queue.close();
        FakeTransport other = new FakeTransport();
        try (BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).copyMode(CopyMode.NONE), other)) {
            assertEquals(k.copyNone, other.configureCalls().get(0).copyMode());
        }
    }

    @Test
    void refusedBindClosesTheTransportAndSaysWhy() {
        fake.failBind(k.eopnotsupp);
        UnsupportedKernelFeatureException e = assertThrows(UnsupportedKernelFeatureException.class,
                () -> BoundQueue.open(QueueOptions.queue(Q).conntrack(true), fake));
        assertTrue(e.getMessage().contains("conntrack"), e.getMessage());
        assertTrue(fake.isClosed(), "the socket of a failed bind is closed");

        FakeTransport other = new FakeTransport().failBind(k.einval);
        NfQueueException e2 = assertThrows(NfQueueException.class, () -> BoundQueue.open(QueueOptions.queue(Q), other));
        assertTrue(e2.getMessage().contains("EINVAL"), e2.getMessage());
        assertTrue(other.isClosed());
    }

    @Test
    void decodesEveryMetadataField() {
        open(QueueOptions.queue(Q).uidGid(true).conntrack(true).securityContext(true));
        byte[] payload = new byte[100];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 7);
        }
        byte[] hw = {0x02, 0x42, (byte) 0xac, 0x11, 0x00, 0x02};
        byte[] ct = {8, 0, 1, 0, 1, 2, 3, 4};
        fake.offer(FakePacket.of(42, Q).hwProtocol(0x86DD).hook(k.hookForward).mark(0xCAFE)
                .timestamp(1_700_000_000L, 123_456).devices(2, 3, 4, 5).hwAddress(hw).uid(1000).gid(100)
                .securityContext("system_u:object_r:x:s0\0".getBytes(StandardCharsets.UTF_8))
                .conntrack(ct).conntrackInfo(2).capturedLength(1500).skbInfo(k.skbGso | k.skbCsumNotReady)
                .payload(payload));
        List<Packet> got = receiveAll(8);
        assertEquals(1, got.size());
        Packet p = got.get(0);
        assertEquals(42, p.id());
        assertEquals(Q, p.queueNumber());
        assertEquals(0x86DD, p.hwProtocol());
        assertEquals(Hook.FORWARD, p.hook());
        assertEquals(0xCAFE, p.mark());
        assertEquals(Instant.ofEpochSecond(1_700_000_000L, 123_456_000L), p.timestamp().orElseThrow());
        assertEquals(2, p.inDevice());
        assertEquals(3, p.outDevice());
        assertEquals(4, p.physInDevice());
        assertEquals(5, p.physOutDevice());
        assertArrayEquals(hw, p.hwAddress().orElseThrow());
        assertEquals(OptionalInt.of(1000), p.uid());
        assertEquals(OptionalInt.of(100), p.gid());
        assertEquals("system_u:object_r:x:s0", p.securityContext().orElseThrow(), "without the kernel's NUL");
        ConntrackInfo info = p.conntrackInfo().orElseThrow();
        assertEquals(OptionalInt.of(2), info.state());
        byte[] attrs = new byte[info.attributes().remaining()];
        info.attributes().get(attrs);
        assertArrayEquals(ct, attrs);
        assertArrayEquals(payload, p.payloadBytes());
        assertEquals(100, p.payloadLength());
        assertEquals(1500, p.originalLength());
        assertTrue(p.isTruncated());
        assertTrue(p.isGso());
        assertTrue(p.isChecksumNotReady());
        assertFalse(p.isResolved());
        assertEquals(1, queue.unresolvedCount());
    }

    @Test
    void absentAttributesStayAbsent() {
        open(QueueOptions.queue(Q));
        fake.offer(5, Q, new byte[] {0x45, 1, 2, 3});
        Packet p = receiveAll(8).get(0);
        assertEquals(0, p.mark());
        assertTrue(p.timestamp().isEmpty());
        assertEquals(0, p.inDevice());
        assertEquals(0, p.outDevice());
        assertTrue(p.hwAddress().isEmpty());
        assertTrue(p.uid().isEmpty());
        assertTrue(p.gid().isEmpty());
        assertTrue(p.securityContext().isEmpty());
        assertTrue(p.conntrackInfo().isEmpty());
        assertFalse(p.isTruncated());
        assertFalse(p.isGso());
        assertEquals(4, p.originalLength());
        assertEquals(4, p.payload().remaining());
        assertTrue(p.payload().isReadOnly());
    }

    @Test
    void conntrackStateWithoutAttributes() {
        open(QueueOptions.queue(Q).conntrack(true));
        fake.offer(FakePacket.of(1, Q).conntrackInfo(3).payload(new byte[1]));
        ConntrackInfo info = receiveAll(8).get(0).conntrackInfo().orElseThrow();
        assertEquals(OptionalInt.of(3), info.state());
        assertEquals(0, info.attributes().remaining());
    }

    @Test
    void metadataOnlyPacketRefusesPayloadClearly() {
        open(QueueOptions.queue(Q).copyMode(CopyMode.META));
        fake.offer(FakePacket.of(3, Q).capturedLength(60));
        Packet p = receiveAll(8).get(0);
        assertEquals(0, p.payloadLength());
        IllegalStateException e = assertThrows(IllegalStateException.class, p::payload);
        assertTrue(e.getMessage().contains("META"), e.getMessage());
        assertThrows(IllegalStateException.class, p::payloadBytes);
        p.accept();
    }

    @Test
    void hooksAreMapped() {
        open(QueueOptions.queue(Q));
        int[] numbers = {k.hookPreRouting, k.hookLocalIn, k.hookForward, k.hookLocalOut, k.hookPostRouting, 99};
        Hook[] expected = {Hook.PRE_ROUTING, Hook.LOCAL_IN, Hook.FORWARD, Hook.LOCAL_OUT, Hook.POST_ROUTING,
                Hook.UNKNOWN};
        for (int i = 0; i < numbers.length; i++) {
            fake.offer(FakePacket.of(i + 1, Q).hook(numbers[i]).payload(new byte[1]));
        }
        List<Packet> got = receiveAll(32);
        for (int i = 0; i < numbers.length; i++) {
            assertEquals(expected[i], got.get(i).hook(), "hook " + numbers[i]);
        }
    }

    @Test
    void payloadSurvivesTheNextBatchReusingTheBuffer() {
        open(QueueOptions.queue(Q));
        fake.offer(1, Q, "first batch".getBytes(StandardCharsets.UTF_8));
        Packet first = receiveAll(8).get(0);
        fake.offer(2, Q, "SECOND BATCH, LONGER".getBytes(StandardCharsets.UTF_8));
        receiveAll(8);
        assertEquals("first batch", new String(first.payloadBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void receiveHonoursItsLimit() {
        open(QueueOptions.queue(Q).batchSize(16));
        fake.offerMany(1, 10, Q);
        assertEquals(3, receiveAll(3).size());
        assertEquals(7, receiveAll(100).size());
        assertEquals(0, receiveAll(100).size());
        assertThrows(IllegalArgumentException.class, () -> queue.receive(p -> { }, 0));
    }

    @Test
    void receiveNeverReadsMoreThanABatch() {
        open(QueueOptions.queue(Q).batchSize(4));
        fake.offerMany(1, 10, Q);
        assertEquals(4, receiveAll(100).size());
    }

    @Test
    void verdictsAreEncodedAsTheKernelExpects() {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 7, Q);
        List<Packet> p = receiveAll(16);
        byte[] replacement = {0x45, 0, 0, 28, 9, 9};
        p.get(0).accept();
        p.get(1).drop();
        p.get(2).repeat();
        p.get(3).requeue(5);
        p.get(4).verdict(Verdict.accept().withMark(0xDEADBEEFL));
        p.get(5).verdict(Verdict.accept().withPayload(replacement));
        p.get(6).verdict(Verdict.requeue(65535).withMark(0).withPayload(new byte[Verdict.MAX_PAYLOAD]));

        assertEquals(sent(1, k.nfAccept, null, null), fake.lastVerdictFor(1));
        assertEquals(sent(2, k.nfDrop, null, null), fake.lastVerdictFor(2));
        assertEquals(sent(3, k.nfRepeat, null, null), fake.lastVerdictFor(3));
        assertEquals(sent(4, k.nfQueue | (5 << 16), null, null), fake.lastVerdictFor(4));
        assertEquals(sent(5, k.nfAccept, 0xDEADBEEF, null), fake.lastVerdictFor(5));
        assertEquals(sent(6, k.nfAccept, null, replacement), fake.lastVerdictFor(6));
        assertEquals(sent(7, k.nfQueue | (65535 << 16), 0, new byte[Verdict.MAX_PAYLOAD]), fake.lastVerdictFor(7));
        assertEquals("", fake.exactlyOnceProblems());
        assertEquals(7, queue.counters().verdictsSent());
    }

    private static SentVerdict sent(int id, int code, Integer mark, byte[] payload) {
        return new SentVerdict(id, code, mark == null ? OptionalInt.empty() : OptionalInt.of(mark), Q,
                Optional.ofNullable(payload), false);
    }

    /**
     * A bound queue's socket binds exactly one queue number, so every packet it reads is of that
     * queue; the verdict is addressed to the bound queue (the packet does not carry its own copy
     * of the number, to stay one small object).
     */
    @Test
    void verdictIsAddressedToTheBoundQueue() {
        open(QueueOptions.queue(Q));
        fake.offer(1, Q, new byte[1]);
        Packet p = receiveAll(8).get(0);
        assertEquals(Q, p.queueNumber());
        p.accept();
        assertEquals(Q, fake.lastVerdictFor(1).queue());
    }

    @Test
    void payloadsLargerThanOneTransmitBufferAreSplitAcrossSends() {
        open(QueueOptions.queue(Q).batchSize(32));
        fake.offerMany(1, 20, Q);
        byte[] big = new byte[Verdict.MAX_PAYLOAD];
        big[0] = 0x45;
        big[big.length - 1] = 0x7f;
        queue.receive(p -> p.verdict(Verdict.accept().withPayload(big)), 32);
        assertEquals("", fake.exactlyOnceProblems());
        assertTrue(fake.sendCalls() > 1, "20 x 64 KiB cannot go in one buffer: " + fake.sendBatchSizes());
        for (SentVerdict v : fake.sent()) {
            assertArrayEquals(big, v.payloadBytes(), "payload of " + v.id());
        }
    }

    @Test
    void secondVerdictThrowsAndSendsNothing() {
        open(QueueOptions.queue(Q));
        fake.offer(1, Q, new byte[1]);
        Packet p = receiveAll(8).get(0);
        p.accept();
        assertTrue(p.isResolved());
        IllegalStateException e = assertThrows(IllegalStateException.class, p::drop);
        assertTrue(e.getMessage().contains("already"), e.getMessage());
        assertThrows(IllegalStateException.class, p::accept);
        queue.flush();
        assertEquals(1, fake.sent().size());
        assertEquals(k.nfAccept, fake.sent().get(0).verdictCode());
        assertEquals(1, fake.verdictCount(1));
    }

    @Test
    void nullVerdictIsRefusedWithoutResolving() {
        open(QueueOptions.queue(Q));
        fake.offer(1, Q, new byte[1]);
        Packet p = receiveAll(8).get(0);
        assertThrows(NullPointerException.class, () -> p.verdict(null));
        assertFalse(p.isResolved());
        p.accept();
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void verdictsGivenInsideTheConsumerGoInOneSendAfterTheBatch() {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 5, Q);
        List<Integer> sentWhileHandling = new ArrayList<>();
        int n = queue.receive(p -> {
            sentWhileHandling.add(fake.sent().size());
            p.accept();
        }, 16);
        assertEquals(5, n);
        assertEquals(List.of(0, 0, 0, 0, 0), sentWhileHandling, "nothing is sent before the batch ends");
        assertEquals(1, fake.sendCalls(), "one send for the whole batch: " + fake.sent());
        assertEquals(5, fake.verdictsApplied());
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void verdictFromAnotherThreadIsSentWhileTheReceiverIsBusy() throws Exception {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 2, Q);
        List<Boolean> sentInTime = new ArrayList<>();
        queue.receive(p -> {
            if (p.id() != 1) {
                return;
            }
            // The receiving thread is inside the consumer: another thread's verdict must not wait for it.
            Thread other = new Thread(p::accept, "other-verdict");
            other.start();
            sentInTime.add(fake.awaitVerdictFor(1, Duration.ofSeconds(5)));
            try {
                other.join(5000);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }, 16);
        assertEquals(List.of(true), sentInTime);
        assertEquals(1, queue.unresolvedCount());
    }

    @Test
    void verdictAfterTheBatchFromTheReceivingThreadIsSentAtOnce() {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 1, Q);
        Packet p = receiveAll(8).get(0);
        p.accept();
        assertEquals(1, fake.verdictCount(1), "sent without a flush call");
    }

    @Test
    void defaultVerdictCountsAndRefusesALaterVerdict() {
        open(QueueOptions.queue(Q).defaultVerdict(Verdict.accept().withMark(3)));
        fake.offerMany(1, 2, Q);
        List<Packet> got = receiveAll(8);
        assertTrue(queue.resolveWithDefault(got.get(0), DefaultVerdictCause.CANCEL));
        assertFalse(queue.resolveWithDefault(got.get(0), DefaultVerdictCause.CANCEL), "only once");
        IllegalStateException e = assertThrows(IllegalStateException.class, got.get(0)::accept);
        assertTrue(e.getMessage().contains("CANCEL"), e.getMessage());
        assertEquals(1, queue.resolveAllWithDefault(DefaultVerdictCause.DISCARD));
        QueueCounters c = queue.counters();
        assertEquals(1, c.defaultVerdicts(DefaultVerdictCause.CANCEL));
        assertEquals(1, c.defaultVerdicts(DefaultVerdictCause.DISCARD));
        assertEquals(2, c.totalDefaultVerdicts());
        assertEquals(sent(1, k.nfAccept, 3, null), fake.lastVerdictFor(1));
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void packetOfAnotherBindingIsRefused() {
        open(QueueOptions.queue(Q));
        FakeTransport otherFake = new FakeTransport();
        try (BoundQueue other = BoundQueue.open(QueueOptions.queue(Q), otherFake)) {
            otherFake.offer(1, Q, new byte[1]);
            List<Packet> got = new ArrayList<>();
            other.receive(got::add, 8);
            assertThrows(IllegalArgumentException.class,
                    () -> queue.resolveWithDefault(got.get(0), DefaultVerdictCause.CANCEL));
            assertFalse(got.get(0).isResolved());
        }
        assertEquals(List.of(), fake.sent());
    }

    @Test
    void consumerThrowingGivesItsPacketAndTheRestTheDefaultVerdict() {
        open(QueueOptions.queue(Q).defaultVerdict(Verdict.accept().withMark(77)));
        fake.offerMany(1, 4, Q);
        RuntimeException boom = new RuntimeException("boom");
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> queue.receive(p -> {
            if (p.id() == 1) {
                p.drop();
            } else if (p.id() == 2) {
                throw boom;
            }
        }, 16));
        assertEquals(boom, thrown, "the consumer's own exception propagates");
        assertEquals(k.nfDrop, fake.lastVerdictFor(1).verdictCode());
        for (int id = 2; id <= 4; id++) {
            assertEquals(sent(id, k.nfAccept, 77, null), fake.lastVerdictFor(id), "packet " + id);
        }
        assertEquals(3, queue.counters().defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR));
        assertEquals(0, queue.unresolvedCount());
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void consumerThrowingAfterItsVerdictKeepsThatVerdict() {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 3, Q);
        assertThrows(AssertionError.class, () -> queue.receive(p -> {
            p.accept();
            if (p.id() == 2) {
                throw new AssertionError("an Error, not an Exception");
            }
        }, 16));
        assertEquals(k.nfAccept, fake.lastVerdictFor(2).verdictCode(), "the verdict it gave stands");
        assertEquals(k.nfDrop, fake.lastVerdictFor(3).verdictCode(), "the one it never saw gets the default");
        assertEquals(1, queue.counters().defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR));
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void secondReceiverIsRefused() throws Exception {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 1, Q);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread receiver = new Thread(() -> queue.receive(p -> {
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            p.accept();
        }, 8), "first-receiver");
        receiver.start();
        assertTrue(inside.await(5, TimeUnit.SECONDS));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> queue.receive(p -> { }, 8));
        assertTrue(e.getMessage().contains("another thread"), e.getMessage());
        release.countDown();
        receiver.join(5000);
        assertFalse(receiver.isAlive());
        assertEquals(0, queue.receive(p -> { }, 8), "usable again once the first returned");
    }

    @Test
    void receiveFromInsideItsOwnConsumerIsRefused() {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 1, Q);
        assertThrows(IllegalStateException.class, () -> queue.receive(p -> queue.receive(x -> { }, 1), 8));
        assertEquals("", fake.exactlyOnceProblems(), "the packet got the default verdict");
    }

    @Test
    void kernelErrorRecordsAreCounted() {
        open(QueueOptions.queue(Q));
        fake.offer(1, Q, new byte[1]);
        fake.offerError(k.enoent, k.msgVerdict, 12345);
        fake.offer(2, Q, new byte[1]);
        List<Packet> got = receiveAll(8);
        assertEquals(2, got.size(), "error records are not packets");
        assertEquals(1, queue.counters().kernelErrors());
        got.forEach(Packet::accept);
    }

    @Test
    void enobufsIsCountedAndReadingGoesOn() {
        open(QueueOptions.queue(Q));
        fake.offerEnobufs();
        fake.offerMany(1, 3, Q);
        assertEquals(3, receiveAll(8).size(), "the queued packets are still read");
        assertEquals(1, queue.counters().receiveBufferDrops());
        fake.offerEnobufs();
        fake.offerEnobufs();
        fake.offerEnobufs();
        fake.offerMany(4, 1, Q);
        int total = 0;
        for (int i = 0; i < 5 && total == 0; i++) {
            total += receiveAll(8).size();
        }
        assertEquals(1, total, "reading continues past any number of ENOBUFS");
        assertEquals(4, queue.counters().receiveBufferDrops());
    }

    @Test
    void otherReceiveErrorsAreThrown() {
        open(QueueOptions.queue(Q));
        fake.offerReceiveFailure(k.ebadf);
        NfQueueException e = assertThrows(NfQueueException.class, () -> receiveAll(8));
        assertTrue(e.getMessage().contains("EBADF"), e.getMessage());
    }

    @Test
    void truncatedRecordGetsTheDefaultVerdict() {
        open(QueueOptions.queue(Q).defaultVerdict(Verdict.accept()));
        fake.offerTruncated(9, Q);
        fake.offer(10, Q, new byte[1]);
        List<Packet> got = receiveAll(8);
        assertEquals(1, got.size(), "the truncated one is not handed out");
        assertEquals(10, got.get(0).id());
        assertEquals(k.nfAccept, fake.lastVerdictFor(9).verdictCode());
        assertEquals(1, queue.counters().defaultVerdicts(DefaultVerdictCause.TRUNCATED_MESSAGE));
        got.get(0).accept();
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void datagramLargerThanItsSlotBecomesATruncatedRecord() {
        open(QueueOptions.queue(Q).copyRange(100));
        fake.offer(1, Q, new byte[64 * 1024]); // more than the slot sized for a 100-byte copy range
        assertEquals(0, receiveAll(8).size());
        assertEquals(1, queue.counters().defaultVerdicts(DefaultVerdictCause.TRUNCATED_MESSAGE));
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void setMaxLengthSendsAnUnacknowledgedConfigWithOnlyTheLength() {
        open(QueueOptions.queue(Q));
        queue.setMaxLength(2048);
        ConfigureCall c = fake.configureCalls().get(1);
        assertEquals(Q, c.queue());
        assertTrue(c.command() < 0 && c.copyMode() < 0 && c.mask() <= 0, "only the length: " + c);
        assertEquals(2048, c.maxLength());
        assertFalse(c.ack());
        assertThrows(IllegalArgumentException.class, () -> queue.setMaxLength(0));
        assertThrows(IllegalArgumentException.class, () -> queue.setMaxLength(QueueOptions.MAX_MAX_LENGTH + 1));
        assertEquals(2, fake.configureCalls().size(), "refused values send nothing");
        fake.failConfigure(k.enomem);
        assertThrows(NfQueueException.class, () -> queue.setMaxLength(10));
    }

    /**
     * The kernel acts on a verdict inside the send (a reinjected packet can reach its socket
     * before the call returns): a program that sees the effect and then reads the counters must
     * find the verdict counted.
     */
    @Test
    void aVerdictIsCountedBeforeTheKernelCanActOnIt() {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 3, Q);
        List<Packet> p = receiveAll(8);
        List<Long> duringSend = new ArrayList<>();
        fake.onSend(count -> duringSend.add(queue.counters().verdictsSent()));
        p.get(0).accept();
        p.get(1).drop();
        p.get(2).accept();
        assertEquals(List.of(1L, 2L, 3L), duringSend, "the count inside each send");
        assertEquals(3, queue.counters().verdictsSent());
    }

    @Test
    void failedSendIsCounted() {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 1, Q);
        Packet p = receiveAll(8).get(0);
        fake.failSends(k.enobufs);
        p.accept();
        assertTrue(queue.counters().sendFailures() >= 1, "each failed attempt counts: " + queue.counters());
        assertEquals(0, queue.counters().verdictsSent());
    }

    /**
     * "Every packet gets exactly one verdict": a verdict whose send failed (sendto returned, say,
     * ENOMEM) must still reach the kernel later, at the latest when the queue closes; otherwise
     * the packet waits in the kernel until the unbind drops it, whatever the verdict was.
     */
    @Test
    void verdictOfAFailedSendIsNotLost() { // retries must outlive a transient failure, not run back to back
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 2, Q);
        List<Packet> got = receiveAll(8);
        fake.failSends(k.enomem);
        got.get(0).accept();
        fake.failSends(0);
        got.get(1).accept();
        queue.close();
        assertEquals(Set.of(), fake.heldAtClose(), "packets whose verdict never reached the kernel");
        assertEquals(k.nfAccept, fake.lastVerdictFor(1).verdictCode());
    }

    @Test
    void awaitReadableSeesDataTimesOutAndWakesUp() throws Exception {
        open(QueueOptions.queue(Q));
        assertFalse(queue.awaitReadable(0));
        long t0 = System.nanoTime();
        assertFalse(queue.awaitReadable(30));
        assertTrue(System.nanoTime() - t0 >= 25_000_000L, "waited about the timeout");
        fake.offerMany(1, 1, Q);
        assertTrue(queue.awaitReadable(1000));
        receiveAll(8).forEach(Packet::accept);
        Thread waker = new Thread(() -> {
            sleep(50);
            queue.wakeup();
        });
        waker.start();
        t0 = System.nanoTime();
        assertFalse(queue.awaitReadable(10_000), "woken, nothing to read");
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "woken well before the timeout");
        waker.join(5000);
        assertThrows(IllegalArgumentException.class, () -> queue.awaitReadable(-1));
    }

    /**
     * Verdicts never wait for the receiving thread (DESIGN, Threads): default verdicts given by
     * a cancel or a timeout watchdog must not wait while the receiver sleeps in awaitReadable.
     */
    @Test
    void defaultVerdictsFromAnotherThreadDoNotWaitForAWaitingReceiver() throws Exception {
        open(QueueOptions.queue(Q).verdictTimeout(Duration.ofMillis(10)));
        fake.offerMany(1, 2, Q);
        List<Packet> got = receiveAll(8);
        Thread.sleep(30); // both are now overdue
        // A wait far longer than the bound below, which stays wide so a pause cannot fail it:
        // only waiting for the receiver takes that long.
        Thread waiter = new Thread(() -> queue.awaitReadable(30_000), "waiting-receiver");
        waiter.start();
        assertTrue(fake.awaitWaiter(Duration.ofSeconds(5)), "the receiver is inside its wait");
        long t0 = System.nanoTime();
        assertEquals(2, queue.expireOverdue());
        long expiry = System.nanoTime() - t0;
        queue.wakeup(); // ends the wait
        waiter.join(5000);
        assertFalse(waiter.isAlive(), "the receiver left its wait");
        assertEquals("", fake.exactlyOnceProblems());
        assertTrue(expiry < 10_000_000_000L, "expireOverdue waited " + expiry / 1_000_000 + " ms for the receiver");
        assertTrue(got.get(0).isResolved());
    }

    @Test
    void resolveAllFromAnotherThreadDoesNotWaitForAWaitingReceiver() throws Exception {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 2, Q);
        receiveAll(8);
        Thread waiter = new Thread(() -> queue.awaitReadable(30_000), "waiting-receiver"); // see above
        waiter.start();
        assertTrue(fake.awaitWaiter(Duration.ofSeconds(5)), "the receiver is inside its wait");
        long t0 = System.nanoTime();
        assertEquals(2, queue.resolveAllWithDefault(DefaultVerdictCause.CANCEL));
        long took = System.nanoTime() - t0;
        queue.wakeup(); // ends the wait
        waiter.join(5000);
        assertFalse(waiter.isAlive(), "the receiver left its wait");
        assertTrue(took < 10_000_000_000L, "resolveAllWithDefault waited " + took / 1_000_000 + " ms for the receiver");
    }

    @Test
    void countersAndToString() {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 3, Q);
        List<Packet> got = receiveAll(8);
        got.get(0).accept();
        QueueCounters c = queue.counters();
        assertEquals(3, c.received());
        assertEquals(1, c.verdictsSent());
        assertEquals(2, c.unresolved());
        assertEquals(2, queue.unresolvedCount());
        assertEquals(4242, queue.portId());
        assertEquals(FakeTransport.FILE_DESCRIPTOR, queue.fileDescriptor());
        assertTrue(queue.toString().contains("queue " + Q), queue.toString());
        assertTrue(got.get(1).toString().startsWith("#2 q" + Q), got.get(1).toString());
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void noVerdictIsSentBeforeOneIsGiven() {
        open(QueueOptions.queue(Q));
        fake.offerMany(1, 1, Q);
        Packet p = receiveAll(8).get(0);
        assertNull(fake.lastVerdictFor(p.id()));
        p.accept();
    }
}
