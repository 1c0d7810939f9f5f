package io.nfqueue;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Hands a batch of packets to a consumer on the calling thread, and makes the verdicts given
 * meanwhile wait for the batch's end, so they go out in one send: a verdict given while its own
 * queue dispatches is only queued; any other verdict is flushed at once. If the consumer throws,
 * the packet in hand and those it never saw get the default verdict (they must not wait
 * forever), and the exception propagates.
 */
final class BatchDispatch {
    /** The queue whose batch the current thread is dispatching; nested dispatches stack. */
    private static final ThreadLocal<BoundQueue> DISPATCHING = new ThreadLocal<>();

    private BatchDispatch() {
    }

    static boolean isDispatching(BoundQueue queue) {
        return DISPATCHING.get() == queue;
    }

    /**
     * Hands {@code batch[0..count)} out until done or {@code queue} closes; returns how many the
     * consumer was given. Clears the array slots it handed out.
     */
    static int run(BoundQueue queue, Resolutions resolutions, Packet[] batch, int count, Consumer<? super Packet> consumer) {
        BoundQueue outer = DISPATCHING.get();
        DISPATCHING.set(queue);
        int i = 0;
        try {
            for (; i < count; i++) {
                if (queue.isClosed()) {
                    // close() gave the rest the default verdict; don't hand out resolved packets.
                    Arrays.fill(batch, i, count, null);
                    break;
                }
                consumer.accept(batch[i]);
                batch[i] = null;
            }
            return i;
        } catch (RuntimeException | Error e) {
            int n = 0;
            for (int j = i; j < count; j++) {
                Packet p = batch[j];
                batch[j] = null;
                if (p != null && resolutions.resolveWithDefault(p, DefaultVerdictCause.HANDLER_ERROR, false)) {
                    n++;
                }
            }
            resolutions.logBurst(n, DefaultVerdictCause.HANDLER_ERROR);
            throw e;
        } finally {
            DISPATCHING.set(outer);
            queue.flush();
        }
    }

    /** The same for a list of packets received earlier (a hand-off to another thread). */
    static void run(BoundQueue queue, Resolutions resolutions, List<Packet> packets, Consumer<? super Packet> consumer) {
        BoundQueue outer = DISPATCHING.get();
        DISPATCHING.set(queue);
        int i = 0;
        try {
            for (; i < packets.size(); i++) {
                consumer.accept(packets.get(i));
            }
        } catch (RuntimeException | Error e) {
            int n = 0;
            for (int j = i; j < packets.size(); j++) {
                if (resolutions.resolveWithDefault(packets.get(j), DefaultVerdictCause.HANDLER_ERROR, false)) {
                    n++;
                }
            }
            resolutions.logBurst(n, DefaultVerdictCause.HANDLER_ERROR);
            throw e;
        } finally {
            DISPATCHING.set(outer);
            queue.flush();
        }
    }
}
