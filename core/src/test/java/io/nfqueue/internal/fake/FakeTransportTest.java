package io.nfqueue.internal.fake;

import io.nfqueue.internal.NativeConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fake itself, driven through raw buffers as the native shim is: other tests trust what it reports. */
@Timeout(30)
class FakeTransportTest {
    private static final int SLOT = 4096;
    private final NativeConstants k = NativeConstants.get();
    private final FakeTransport fake = new FakeTransport();
    private final ByteBuffer rx = ByteBuffer.allocateDirect(SLOT * 4).order(ByteOrder.nativeOrder());
    private final ByteBuffer records = ByteBuffer.allocateDirect(k.recordSize * 8).order(ByteOrder.nativeOrder());
    private final ByteBuffer tx = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
    private int txPosition;

    @BeforeEach
    void attach() {
        fake.attach(rx, SLOT, records, tx);
    }

    private void writeVerdict(int id, int verdict, int flags, int mark, int queue, byte[] payload) {
        int base = txPosition;
        tx.putInt(base + k.verId, id);
        tx.putInt(base + k.verVerdict, verdict);
        tx.putInt(base + k.verFlags, flags);
        tx.putInt(base + k.verMark, mark);
        tx.putInt(base + k.verQueue, queue);
        tx.putInt(base + k.verPayloadLength, payload == null ? 0 : payload.length);
        if (payload != null) {
            tx.put(base + k.verdictSize, payload);
        }
        txPosition += (k.verdictSize + (payload == null ? 0 : payload.length) + 7) & ~7;
    }

    @Test
    void packetRecordsFollowTheShimLayout() {
        fake.offer(FakePacket.of(5, 3).mark(9).uid(1000).payload(new byte[] {1, 2, 3}));
        fake.offerError(k.enoent, k.msgVerdict, 77);
        assertEquals(2, fake.receive(4));
        assertEquals(k.typePacket, records.getInt(k.recType));
        assertEquals(5, records.getInt(k.recId));
        assertEquals(3, records.getInt(k.recQueue));
        assertEquals(9, records.getInt(k.recMark));
        int present = records.getInt(k.recPresent);
        assertEquals(k.hasMark | k.hasUid | k.hasPayload, present);
        int off = records.getInt(k.recPayloadOffset);
        assertEquals(3, records.getInt(k.recPayloadLength));
        assertTrue(off >= 0 && off + 3 <= SLOT, "payload inside the first slot");
        byte[] b = new byte[3];
        rx.get(off, b);
        assertArrayEquals(new byte[] {1, 2, 3}, b);
        assertEquals(3, records.getInt(k.recOriginalLength), "no CAP_LEN: the payload length");
        int e = k.recordSize;
        assertEquals(k.typeError, records.getInt(e + k.recType));
        assertEquals(k.enoent, records.getInt(e + k.recError));
        assertEquals(k.msgVerdict, records.getInt(e + k.recErrorMsgType));
        assertEquals(77, records.getInt(e + k.recId));
    }

    @Test
    void receiveReadsAtMostTheSlotsAndTheLimit() {
        fake.offerMany(1, 10, 0);
        assertEquals(2, fake.receive(2));
        assertEquals(4, fake.receive(100), "4 slots");
        assertEquals(4, fake.unread());
    }

    @Test
    void receiveErrorComesOnTheCallThatReachesIt() {
        fake.offerMany(1, 2, 0);
        fake.offerEnobufs();
        fake.offerMany(3, 1, 0);
        assertEquals(2, fake.receive(4), "the datagrams before the error");
        assertEquals(-k.enobufs, fake.receive(4));
        assertEquals(1, fake.receive(4));
        assertEquals(0, fake.receive(4));
    }

    @Test
    void oversizedPacketBecomesATruncatedRecord() {
        fake.offer(FakePacket.of(8, 2).hook(k.hookLocalIn).payload(new byte[SLOT]));
        assertEquals(1, fake.receive(4));
        assertEquals(k.typeTruncated, records.getInt(k.recType));
        assertEquals(8, records.getInt(k.recId));
        assertEquals(k.hookLocalIn, records.getInt(k.recHook));
    }

    @Test
    void verdictRecordsAreDecodedAndCountedPerId() {
        fake.offerMany(1, 3, 4);
        writeVerdict(1, k.nfAccept, 0, 0, 4, null);
        writeVerdict(2, k.nfQueue | (9 << 16), k.verdictHasMark | k.verdictHasPayload, 0x55, 4, new byte[] {7, 7, 7});
        assertEquals(2, fake.sendVerdicts(2));
        List<SentVerdict> sent = fake.sent();
        assertEquals(k.nfAccept, sent.get(0).verdictCode());
        assertTrue(sent.get(0).mark().isEmpty());
        assertEquals(9, sent.get(1).targetQueue());
        assertEquals(k.nfQueue, sent.get(1).baseVerdict());
        assertEquals(OptionalInt.of(0x55), sent.get(1).mark());
        assertArrayEquals(new byte[] {7, 7, 7}, sent.get(1).payloadBytes());
        assertEquals(Set.of(3), fake.held());
        assertEquals("id 3: 0 verdicts\n", fake.exactlyOnceProblems());
        txPosition = 0;
        writeVerdict(1, k.nfDrop, 0, 0, 4, null);
        writeVerdict(99, k.nfDrop, 0, 0, 4, null);
        writeVerdict(3, k.nfDrop, 0, 0, 4, null);
        fake.sendVerdicts(3);
        assertEquals("id 1: 2 verdicts\nid 99: 1 verdicts, never offered\n", fake.exactlyOnceProblems());
        assertEquals(List.of(2, 3), fake.sendBatchSizes());
    }

    @Test
    void batchVerdictCoversEveryHeldIdUpToItsOwn() {
        fake.offerMany(1, 5, 0);
        writeVerdict(3, k.nfAccept, k.verdictBatch, 0, 0, null);
        fake.sendVerdicts(1);
        assertEquals(Set.of(4, 5), fake.held());
        assertEquals(1, fake.verdictCount(1));
        assertEquals(1, fake.verdictCount(3));
        assertEquals(0, fake.verdictCount(4));
    }

    @Test
    void malformedVerdictRecordsAreRefusedLikeTheShimDoes() {
        fake.offerMany(1, 1, 0);
        writeVerdict(1, k.nfAccept, k.verdictBatch | k.verdictHasPayload, 0, 0, new byte[1]);
        assertEquals(-k.einval, fake.sendVerdicts(1));
        assertEquals(List.of(), fake.sent(), "nothing of a refused batch is sent");
        assertEquals(1, fake.violations().size(), fake.violations().toString());
    }

    @Test
    void failuresOnRequest() {
        fake.failBind(k.eperm).failSends(k.enobufs);
        assertEquals(-k.eperm, fake.configure(0, k.cmdBind, k.copyPacket, 100, 10, 0, 0, true));
        assertEquals(0, fake.configure(0, -1, -1, 0, 10, 0, 0, false), "only the bind fails");
        fake.offerMany(1, 1, 0);
        writeVerdict(1, k.nfAccept, 0, 0, 0, null);
        assertEquals(-k.enobufs, fake.sendVerdicts(1));
        assertEquals(1, fake.failedSends());
        assertEquals(Set.of(1), fake.held());
        assertEquals(2, fake.configureCalls().size());
    }

    @Test
    void awaitReportsDataWakeupsAndTimeouts() {
        assertEquals(-1, fake.longestAwaitMillis(), "no wait yet");
        assertEquals(0, fake.await(0));
        long t0 = System.nanoTime();
        assertEquals(0, fake.await(30));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(25));
        fake.wakeup();
        assertEquals(2, fake.await(1000));
        assertEquals(0, fake.await(0), "a wake-up is consumed, like the shim's eventfd");
        fake.offerMany(1, 1, 0);
        assertEquals(1, fake.await(1000));
        assertEquals(1, fake.await(1000), "data stays readable until read");
        assertEquals(1000, fake.longestAwaitMillis());
        fake.await(-1);
        assertEquals(Integer.MAX_VALUE, fake.longestAwaitMillis(), "an infinite wait is the longest");
    }

    @Test
    void awaitIgnoresInterruptsLikePollButKeepsTheFlag() {
        Thread.currentThread().interrupt();
        long t0 = System.nanoTime();
        assertEquals(0, fake.await(50));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(45), "waited the whole timeout");
        assertTrue(Thread.interrupted(), "the flag survives (and is cleared here)");
    }

    @Test
    void contractBreachesAreRecorded() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        fake.onReceive(() -> {
            if (Thread.currentThread().getName().equals("first")) {
                inside.countDown();
                try {
                    release.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Thread first = new Thread(() -> {
            try {
                fake.receive(1);
            } catch (IllegalStateException closedMeanwhile) {
                // expected: the fake was closed under it
            }
        }, "first");
        first.start();
        assertTrue(inside.await(5, TimeUnit.SECONDS));
        fake.receive(1);
        fake.close();
        release.countDown();
        first.join(5000);
        List<String> v = fake.violations();
        assertTrue(v.get(0).startsWith("two threads in receive"), v.toString());
        assertTrue(v.get(1).startsWith("close while receive runs"), v.toString());
        assertTrue(v.get(2).startsWith("receive after close"), v.toString());
    }

    @Test
    void callsAfterCloseThrowAndOffersAreDropped() {
        fake.offerMany(1, 1, 0);
        fake.close();
        assertEquals(Set.of(1), fake.heldAtClose());
        assertThrows(IllegalStateException.class, () -> fake.receive(1));
        assertThrows(IllegalStateException.class, fake::wakeup);
        fake.offerMany(2, 1, 0);
        assertEquals(1, fake.droppedWithoutListener());
        fake.close();
        assertEquals(2, fake.closeCalls());
        assertEquals(2, fake.violations().size(), fake.violations().toString());
        assertFalse(fake.violations().get(0).isEmpty());
    }
}
