package io.nfqueue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batch-verdict rule on its own: a batch of top T is chosen only if every packet of the send
 * at or below T is a plain accept, no waiting packet lies at or below T, it covers two packets or
 * more, and T is the highest such id; ids compare in serial-number order, across the wrap.
 */
class BatchVerdictRuleTest {
    private static Packet packet(int id, Verdict v) {
        Packet p = new Packet(null, id, 0x0800, Hook.LOCAL_OUT, 0, 0, 0, null, null, false, false, false, 0);
        assertTrue(p.claim(v, null));
        return p;
    }

    private static Packet waiting(int id) {
        return new Packet(null, id, 0x0800, Hook.LOCAL_OUT, 0, 0, 0, null, null, false, false, false, 0);
    }

    @Test
    void aRunOfPlainAcceptsIsOneBatchToppedByTheHighest() {
        Packet[] send = {packet(3, Verdict.accept()), packet(1, Verdict.accept()), packet(2, Verdict.accept())};
        assertEquals(0, BatchVerdictRule.top(send, 3, null));
    }

    @Test
    void aDropStopsTheBatchBelowIt() {
        Packet[] send = {packet(1, Verdict.accept()), packet(2, Verdict.accept()), packet(3, Verdict.drop()),
            packet(4, Verdict.accept())};
        assertEquals(1, BatchVerdictRule.top(send, 4, null), "top id 2, below the drop");
    }

    @Test
    void aMarkOrAPayloadIsNotAPlainAccept() {
        Packet[] marked = {packet(1, Verdict.accept()), packet(2, Verdict.accept().withMark(7)), packet(3, Verdict.accept())};
        assertEquals(-1, BatchVerdictRule.top(marked, 3, null), "only id 1 lies below the mark: one packet is no batch");
        Packet[] rewritten = {packet(1, Verdict.accept()), packet(2, Verdict.accept()),
            packet(3, Verdict.accept().withPayload(new byte[20]))};
        assertEquals(1, BatchVerdictRule.top(rewritten, 3, null));
    }

    @Test
    void aWaitingPacketIsNeverCovered() {
        Packet[] send = {packet(1, Verdict.accept()), packet(2, Verdict.accept()), packet(4, Verdict.accept()),
            packet(5, Verdict.accept())};
        assertEquals(1, BatchVerdictRule.top(send, 4, waiting(3)), "top id 2, below the waiting 3");
        assertEquals(-1, BatchVerdictRule.top(send, 4, waiting(1)), "nothing lies below the waiting 1");
    }

    @Test
    void idsCompareAcrossTheWrap() {
        int max = Integer.MAX_VALUE;
        Packet[] send = {packet(max - 1, Verdict.accept()), packet(max, Verdict.accept()), packet(max + 1, Verdict.accept()),
            packet(max + 2, Verdict.accept())};
        assertEquals(3, BatchVerdictRule.top(send, 4, null), "id MIN_VALUE + 1 comes after MAX_VALUE");
        Packet[] wrapped = {packet(-2, Verdict.accept()), packet(-1, Verdict.accept()), packet(0, Verdict.accept()),
            packet(1, Verdict.drop())};
        assertEquals(2, BatchVerdictRule.top(wrapped, 4, null), "top 0, below the drop at 1");
    }

    /** Random sends: whatever top the rule picks, the batch stands exactly for plain accepts of the send. */
    @Test
    void randomSendsNeverMakeABatchThatOverridesAnything() {
        Random random = new Random(11);
        for (int round = 0; round < 20_000; round++) {
            int base = random.nextBoolean() ? random.nextInt() : Integer.MAX_VALUE - 10;
            int n = 1 + random.nextInt(12);
            List<Packet> send = new ArrayList<>();
            List<Integer> waitingIds = new ArrayList<>();
            for (int i = 0; i < n + 4; i++) {
                int id = base + i;
                int kind = random.nextInt(10);
                if (kind == 0) {
                    waitingIds.add(id);
                } else if (send.size() < n) {
                    Verdict v = kind < 7 ? Verdict.accept() : kind == 7 ? Verdict.drop() : kind == 8
                            ? Verdict.accept().withMark(1) : Verdict.repeat();
                    send.add(packet(id, v));
                }
            }
            Collections.shuffle(send, random);
            Packet oldest = waitingIds.isEmpty() ? null : waiting(waitingIds.get(0));
            Packet[] array = send.toArray(new Packet[0]);
            int top = BatchVerdictRule.top(array, array.length, oldest);
            if (top < 0) {
                continue;
            }
            int topId = array[top].id();
            int covered = 0;
            for (Packet p : array) {
                if (p.id() - topId <= 0) {
                    assertTrue(BatchVerdictRule.isPlainAccept(p), "round " + round + ": the batch covers " + p.id()
                            + ", which is not a plain accept");
                    covered++;
                } else if (BatchVerdictRule.isPlainAccept(p) && (oldest == null || p.id() - oldest.id() < 0)) {
                    boolean otherBelow = false;
                    for (Packet q : array) {
                        if (!BatchVerdictRule.isPlainAccept(q) && q.id() - p.id() <= 0) {
                            otherBelow = true;
                        }
                    }
                    assertTrue(otherBelow, "round " + round + ": " + p.id() + " could have topped the batch above "
                            + topId);
                }
            }
            assertTrue(covered >= 2, "round " + round + ": a batch of " + covered);
            if (oldest != null) {
                assertTrue(topId - oldest.id() < 0, "round " + round + ": the waiting " + oldest.id() + " is covered");
            }
        }
    }
}
