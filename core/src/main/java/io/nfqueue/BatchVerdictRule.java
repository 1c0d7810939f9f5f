package io.nfqueue;

/**
 * When a run of accepts may travel as one {@code NFQNL_MSG_VERDICT_BATCH}: the most delicate rule
 * of the project, in one place.
 *
 * <p>The kernel applies a batch verdict to <em>every</em> packet it holds for the queue with an id
 * up to the batch's own (in serial-number order, so wrap-safe), whoever is still deciding it. So a
 * batch ACCEPT with top id T stands for exactly the plain accepts of one send if, and only if:
 * <ol>
 * <li>no packet held at or below T is still waiting for a verdict outside this send (the oldest
 * such packet lies above T), or the batch would accept a packet its program has not decided;</li>
 * <li>no packet of this send at or below T has another verdict (a drop, a requeue, a mark, a new
 * payload), or the batch would override it, whatever order the messages take;</li>
 * <li>every packet at or below T that the kernel holds is then a plain accept of this send, and no
 * other message of the send touches those ids, so the order of the messages within the send does
 * not matter.</li>
 * </ol>
 * Packets whose verdict already went out are no longer held by the kernel and cannot be covered.
 * The batch is used only when it covers two packets or more (one would save nothing).
 *
 * <p>The proof on a real kernel: {@code VerdictBatchKernelTest}, {@code ConcurrentVerdictsKernelTest}
 * and the race kernel tests; with the kernel's batch semantics replayed by {@code FakeTransport}:
 * {@code BatchVerdictRuleTest}, {@code BoundQueueBatchSafetyTest} and
 * {@code BoundQueueVerdictBatchTest} (random verdicts from many threads have exactly their effect).
 * A test under CPU load caught a batch that overrode a drop in the first prototype.
 */
final class BatchVerdictRule {
    private BatchVerdictRule() {
    }

    /**
     * The index in {@code send[0..n)} of the packet whose id tops the batch, or -1 when no batch
     * of two or more would be exact.
     *
     * @param oldestWaiting the oldest held packet whose verdict is neither sent nor in this send
     *                      (null: none)
     */
    static int top(Packet[] send, int n, Packet oldestWaiting) {
        boolean anyOther = false;
        int lowestOther = 0;
        for (int i = 0; i < n; i++) {
            Packet q = send[i];
            if (!isPlainAccept(q) && (!anyOther || q.id() - lowestOther < 0)) {
                lowestOther = q.id();
                anyOther = true;
            }
        }
        int top = -1;
        int candidates = 0;
        for (int i = 0; i < n; i++) {
            Packet q = send[i];
            int id = q.id();
            if (isPlainAccept(q) && (oldestWaiting == null || id - oldestWaiting.id() < 0)
                    && (!anyOther || id - lowestOther < 0)) {
                candidates++;
                if (top < 0 || send[top].id() - id < 0) {
                    top = i;
                }
            }
        }
        return candidates >= 2 ? top : -1;
    }

    /** Whether the batch record of top {@code topId} covers {@code p} (so it needs no record of its own). */
    static boolean covers(int topId, Packet p) {
        return isPlainAccept(p) && p.id() - topId <= 0;
    }

    /** ACCEPT with no mark and no payload: the only verdict a batch can stand for. */
    static boolean isPlainAccept(Packet p) {
        Verdict v = p.resolvedVerdict();
        return v.kind() == Verdict.Kind.ACCEPT && !v.hasMarkUnsafe() && v.payloadUnsafe() == null;
    }
}
