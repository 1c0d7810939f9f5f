package io.nfqueue;

import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import io.nfqueue.internal.fake.SentVerdict;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NFQNL_MSG_VERDICT_BATCH: the kernel applies it to every packet it holds with an id up to the
 * batch's (serial-number order), so a batch may only stand for verdicts that are exactly
 * equivalent. {@link FakeTransport} applies batch records with those kernel semantics; these
 * tests check no packet ever gets a verdict it was not given.
 */
@Timeout(30)
class BoundQueueBatchSafetyTest {
    private static final int Q = 6;
    private final NativeConstants k = NativeConstants.get();
    private final FakeTransport fake = new FakeTransport();
    private final BoundQueue queue = BoundQueue.open(QueueOptions.queue(Q).copyRange(64).batchSize(64), fake);

    @AfterEach
    void tearDown() {
        queue.close();
        assertEquals(List.of(), fake.violations(), "Transport contract");
    }

    private List<Packet> receive() {
        List<Packet> got = new ArrayList<>();
        queue.receive(got::add, 64);
        return got;
    }

    private long batchRecords() {
        return fake.sent().stream().filter(SentVerdict::batch).count();
    }

    @Test
    void aRunOfAcceptsInOneBatchTravelsAsOneRecord() {
        fake.offerMany(1, 32, Q);
        queue.receive(Packet::accept, 64);
        assertEquals(32, fake.verdictsApplied());
        assertEquals("", fake.exactlyOnceProblems());
        assertEquals(1, fake.sent().size(), "one batch record for 32 plain accepts: " + fake.sent());
        assertEquals(32, queue.counters().verdictsSent(), "counted per packet, not per record");
    }

    @Test
    void anUnresolvedOlderPacketIsNeverCovered() {
        fake.offerMany(1, 5, Q);
        queue.receive(p -> {
            if (p.id() != 1) {
                p.accept();
            }
        }, 64);
        assertEquals(0, fake.verdictCount(1), "packet 1 waits for its own verdict");
        List<Packet> kept = new ArrayList<>();
        fake.offerMany(6, 1, Q);
        queue.receive(kept::add, 64);
        assertEquals(0, fake.verdictCount(1));
        queue.dispatch(List.of(kept.get(0)), Packet::drop);
        assertEquals(0, fake.verdictCount(1));
        assertEquals(k.nfDrop, fake.verdictCodeFor(6));
    }

    @Test
    void anotherVerdictBelowTheTopIsNeverOverridden() {
        fake.offerMany(1, 6, Q);
        queue.receive(p -> {
            if (p.id() == 3) {
                p.drop();
            } else if (p.id() == 5) {
                p.verdict(Verdict.accept().withMark(9));
            } else {
                p.accept();
            }
        }, 64);
        assertEquals(k.nfDrop, fake.verdictCodeFor(3));
        assertEquals(9, fake.lastVerdictFor(5).mark().orElseThrow());
        for (int id : new int[] {1, 2, 4, 6}) {
            assertEquals(k.nfAccept, fake.verdictCodeFor(id), "packet " + id);
        }
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void idsWrappingAroundZeroAreOrderedAsTheKernelOrdersThem() {
        int[] ids = {0xFFFF_FFFE, 0xFFFF_FFFF, 0, 1};
        for (int id : ids) {
            fake.offer(id, Q, new byte[1]);
        }
        queue.receive(p -> {
            if (p.id() != 0xFFFF_FFFE) {
                p.accept();
            }
        }, 64);
        // Compared as unsigned numbers, 0 and 1 would lie below 0xFFFFFFFE and a batch up to 1 would cover it.
        assertEquals(0, fake.verdictCount(0xFFFF_FFFE), "the oldest, unresolved, is below 0 in serial order");
        assertEquals(3, fake.verdictsApplied());
    }

    @Test
    void acceptsGivenInDescendingOrderFromAnotherThreadStayExact() throws Exception {
        fake.offerMany(1, 40, Q);
        List<Packet> got = receive();
        Thread t = new Thread(() -> {
            for (int i = got.size() - 1; i >= 0; i--) {
                if (i % 7 == 0) {
                    got.get(i).drop();
                } else {
                    got.get(i).accept();
                }
            }
        });
        t.start();
        t.join(5000);
        assertFalse(t.isAlive());
        for (Packet p : got) {
            assertEquals(p.id() % 7 == 1 ? k.nfDrop : k.nfAccept, fake.verdictCodeFor(p.id()), "packet " + p.id());
        }
        assertEquals("", fake.exactlyOnceProblems());
    }

    /**
     * A DROP whose send failed is still held by the kernel; a later batch accept whose top lies
     * above it would ACCEPT it. A firewall drop must never turn into an accept.
     */
    @Test
    void aDropLostToAFailedSendIsNotAcceptedByALaterBatch() {
        fake.offerMany(1, 3, Q);
        List<Packet> got = receive();
        fake.failSends(k.enomem);
        got.get(0).drop();
        fake.failSends(0);
        queue.dispatch(got.subList(1, 3), Packet::accept); // one send: a batch of two accepts
        assertTrue(fake.verdictCount(2) == 1 && fake.verdictCount(3) == 1);
        assertNotEquals(k.nfAccept, fake.verdictCodeFor(1),
                "packet 1 was dropped by the program but accepted by batch record " + fake.lastVerdictFor(1));
    }

    /** One packet kept while tens of thousands pass: the others flow, and it keeps its own verdict. */
    @Test
    void aPacketKeptForLongDoesNotDisturbTheOthers() {
        fake.offerMany(1, 1, Q);
        Packet kept = receive().get(0);
        int passed = 0;
        for (int id = 2; id < 30_002; id += 50) {
            fake.offerMany(id, 50, Q);
            passed += queue.receive(p -> {
                if (p.id() % 3 == 0) {
                    p.drop();
                } else {
                    p.accept();
                }
            }, 64);
        }
        assertEquals(30_000, passed);
        assertEquals(0, fake.verdictCount(1), () -> "the kept packet was covered by " + fake.lastVerdictFor(1)
                + ", record " + fake.sent().indexOf(fake.lastVerdictFor(1)) + " of " + fake.sent().size());
        assertEquals(30_000, fake.verdictsApplied());
        kept.verdict(Verdict.repeat());
        assertEquals(k.nfRepeat, fake.verdictCodeFor(1));
        assertEquals(k.nfDrop, fake.verdictCodeFor(30_000)); // a multiple of 3
        assertEquals(k.nfAccept, fake.verdictCodeFor(30_001));
        assertEquals("", fake.exactlyOnceProblems());
        assertEquals(0, queue.unresolvedCount());
    }

    /**
     * Failed sends are retried a few times, then given up; the kernel still holds the packet.
     * A verdict given up on must not let a later batch accept reach it either.
     */
    @Test
    void aDropGivenUpAfterFailedSendsIsNotAcceptedByALaterBatch() {
        fake.offerMany(1, 3, Q);
        List<Packet> got = receive();
        fake.failSends(k.enomem);
        got.get(0).drop();
        for (int i = 0; i < 10; i++) {
            queue.flush(); // every retry fails too
        }
        fake.failSends(0);
        queue.dispatch(got.subList(1, 3), Packet::accept);
        assertNotEquals(k.nfAccept, fake.verdictCodeFor(1),
                "packet 1 was dropped by the program but accepted by batch record " + fake.lastVerdictFor(1));
    }

    @Test
    void batchesUnderConcurrencyNeverCoverAnUnresolvedPacket() throws Exception {
        for (int iteration = 0; iteration < 300; iteration++) {
            FakeTransport f = new FakeTransport();
            try (BoundQueue q = BoundQueue.open(QueueOptions.queue(Q).copyRange(64).batchSize(64), f)) {
                f.offerMany(1, 64, Q);
                List<Packet> got = new ArrayList<>();
                q.receive(got::add, 64);
                // Two threads accept interleaved halves; the odd tenth is left for last.
                Thread a = new Thread(() -> acceptEvery(got, 0));
                Thread b = new Thread(() -> acceptEvery(got, 1));
                a.start();
                b.start();
                a.join(5000);
                b.join(5000);
                for (Packet p : got) {
                    if (p.id() % 10 == 0) {
                        assertEquals(0, f.verdictCount(p.id()), "iteration " + iteration + ": packet " + p.id()
                                + " covered by " + f.lastVerdictFor(p.id()));
                        p.drop();
                        assertEquals(k.nfDrop, f.verdictCodeFor(p.id()));
                    }
                }
                assertEquals("", f.exactlyOnceProblems(), "iteration " + iteration);
            }
        }
    }

    private static void acceptEvery(List<Packet> packets, int parity) {
        for (int i = parity; i < packets.size(); i += 2) {
            Packet p = packets.get(i);
            if (p.id() % 10 != 0) {
                p.accept();
            }
        }
    }
}
