package io.nfqueue;

import io.nfqueue.internal.DefaultVerdictLog;
import io.nfqueue.internal.ErrnoNames;
import io.nfqueue.internal.Transport;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The verdicts of one bound queue on their way to the kernel: the pending ones, the sends that
 * carry them in batches, and the ones to try again. Its one job is that every verdict given is
 * sent exactly once, in as few system calls as the kernel's semantics allow.
 *
 * <p>Verdicts arrive from any thread on a lock-free stack linked through the packets themselves
 * (no allocation per verdict, {@link #push}); whichever thread gets the send lock takes the whole
 * stack, reverses it (verdicts go out in the order given) and writes one send per transmit buffer
 * ({@link #flush}). A run of plain accepts becomes one batch record where {@link BatchVerdictRule}
 * allows. A send that fails keeps its verdicts "unsent" (so that no later batch can cover their
 * packets) and tries them again after a short delay, until one succeeds or the queue closes.
 *
 * <p>Threads: {@link #push} from any thread; everything else under the send lock, taken here,
 * except {@link #withLock}, which lets the receive side compact the held packets (which the
 * sender reads) without a send in between.
 */
final class VerdictSender {
    /** A failed send is tried again by the first flush after this long, not at once. */
    private static final long RETRY_DELAY_NANOS = 10_000_000L;

    private final Transport transport;
    private final VerdictWriter writer;
    private final HeldPackets held;
    private final int queueNumber;
    private final DefaultVerdictLog errorLog;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicReference<Packet> pending = new AtomicReference<>();
    /** The verdicts of the send being built; under the lock. */
    private Packet[] sendList = new Packet[64];
    /** Verdicts whose send failed, tried again at a later flush; under the lock. */
    private final ArrayDeque<Packet> retry = new ArrayDeque<>();
    /** sendList index of the first verdict of the records being written, for a retry if the send fails. */
    private int chunkStart;
    private volatile boolean retryWaiting;
    private volatile long retryNotBefore;
    /** Set under the lock once the socket is gone: what still comes can no longer be sent. */
    private boolean closed;
    private final LongAdder sent = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder lostAtClose = new LongAdder();

    VerdictSender(Transport transport, VerdictWriter writer, HeldPackets held, int queueNumber,
                  DefaultVerdictLog errorLog) {
        this.transport = transport;
        this.writer = writer;
        this.held = held;
        this.queueNumber = queueNumber;
        this.errorLog = errorLog;
    }

    /** Queues a resolved packet's verdict for the next flush. Lock-free; any thread. */
    void push(Packet p) {
        Packet top;
        do {
            top = pending.get();
            p.nextPending = top;
        } while (!pending.compareAndSet(top, p));
    }

    /** Sends the verdicts given so far, unless another thread is sending them right now. */
    void flush() {
        // Failed sends get one more try per flush at most, once their delay has passed.
        boolean retryNow = retryDue();
        while (pending.get() != null || retryNow) {
            if (!lock.tryLock()) {
                return; // the holder re-checks the stack after it unlocks
            }
            try {
                drainAndSend(retryNow);
                retryNow = false;
            } finally {
                lock.unlock();
            }
        }
    }

    private boolean retryDue() {
        return retryWaiting && System.nanoTime() - retryNotBefore >= 0;
    }

    /** Runs {@code action} with no send in progress (the held packets' compaction). */
    void withLock(Runnable action) {
        lock.lock();
        try {
            action.run();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The last sends before the socket closes: everything pending, and the retries (twice, for a
     * retry that fails once more). Waits for a send in progress. Caller is the closing thread.
     */
    void sendEverything() {
        lock.lock();
        try {
            drainAndSend(true);
            if (!retry.isEmpty()) {
                drainAndSend(true);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes the socket ({@code closeSocket}) with no send in progress, after which a verdict can
     * no longer be sent: those still pending then (none, if every submitter finished before the
     * last sends) and any that come later are counted as lost, not dropped silently.
     */
    void closeSocket(Runnable closeSocket) {
        lock.lock();
        try {
            closeSocket.run();
            closed = true;
            countLost();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends every queued verdict: a batch record first where {@link BatchVerdictRule} allows, then
     * a record per other verdict, in as many sends as the transmit buffer needs. Caller holds the
     * lock.
     */
    private void drainAndSend(boolean withRetries) {
        if (closed) {
            countLost();
            return;
        }
        int n = 0;
        Packet p;
        while (withRetries && (p = retry.poll()) != null) {
            n = addToSend(n, p);
        }
        // The stack holds the newest first; reversed, verdicts go out in the order given.
        Packet reversed = null;
        for (p = pending.getAndSet(null); p != null; ) {
            Packet next = p.nextPending;
            p.nextPending = reversed;
            reversed = p;
            p = next;
        }
        for (p = reversed; p != null; ) {
            Packet next = p.nextPending;
            p.nextPending = null;
            n = addToSend(n, p);
            p = next;
        }
        retryWaiting = !retry.isEmpty();
        if (n == 0) {
            return;
        }
        int top = BatchVerdictRule.top(sendList, n, held.oldestUnsent());
        writer.reset();
        chunkStart = 0;
        int topId = 0;
        if (top >= 0) {
            topId = sendList[top].id();
            int covered = 0;
            for (int i = 0; i < n; i++) {
                if (BatchVerdictRule.covers(topId, sendList[i])) {
                    covered++;
                }
            }
            writer.writeBatchAccept(queueNumber, topId, covered);
        }
        for (int i = 0; i < n; i++) {
            Packet q = sendList[i];
            if (top >= 0 && BatchVerdictRule.covers(topId, q)) {
                continue;
            }
            if (writer.count() > 0 && !writer.fits(q)) {
                send(i);
                writer.reset();
            }
            writer.write(q, queueNumber);
        }
        if (writer.count() > 0) {
            send(n);
        }
        Arrays.fill(sendList, 0, n, null);
        held.releaseSent();
    }

    /** Verdicts given after the socket closed: they cannot be sent; count and log them. */
    private void countLost() {
        int n = 0;
        for (Packet p = pending.getAndSet(null); p != null; p = p.nextPending) {
            n++;
        }
        n += retry.size();
        retry.clear();
        retryWaiting = false;
        if (n > 0) {
            lostAtClose.add(n);
            errorLog.record(n, "verdicts given after the queue closed could not be sent (the kernel dropped "
                    + "their packets at unbind)");
        }
    }

    private int addToSend(int n, Packet p) {
        if (n == sendList.length) {
            sendList = Arrays.copyOf(sendList, n * 2);
        }
        sendList[n] = p;
        p.sent(true);
        return n + 1;
    }

    /**
     * Sends what the writer holds: the verdicts of sendList[chunkStart, end) (the first chunk also
     * carries the batch record, whose packets lie in that range too). If the send fails, those
     * verdicts are kept and tried again later. The shim may have sent part of a failed chunk; a
     * verdict sent twice only earns an ENOENT from the kernel, counted as a kernel error.
     */
    private void send(int end) {
        // Counted before the call: the kernel acts on a verdict inside the send (a reinjected
        // packet can reach its socket before the call returns), and a count that lagged it would
        // let a program see a packet's effect before the verdict that caused it.
        int packets = writer.packets();
        sent.add(packets);
        int rc = transport.sendVerdicts(writer.count());
        if (rc < 0) {
            sent.add(-packets);
            failures.increment();
            // Never given up: a verdict that is not known to be sent must stay "unsent", or a
            // later batch verdict could cover its packet and accept what was meant to be dropped.
            for (int i = chunkStart; i < end; i++) {
                Packet q = sendList[i];
                q.failedSend();
                q.sent(false);
                retry.add(q);
            }
            retryNotBefore = System.nanoTime() + RETRY_DELAY_NANOS;
            retryWaiting = true;
            errorLog.record(1, "verdict sends failed, last: " + packets + " verdicts, "
                    + ErrnoNames.describe(-rc) + "; they are tried again every " + RETRY_DELAY_NANOS / 1_000_000 + " ms");
        }
        chunkStart = end;
    }

    long sent() {
        return sent.sum();
    }

    long failures() {
        return failures.sum();
    }

    long lostAtClose() {
        return lostAtClose.sum();
    }
}
