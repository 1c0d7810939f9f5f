package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import reactor.core.publisher.Flux;

import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Resolves the packets a pipeline drops, the moment it drops them: what an operator discards
 * ({@code filter}, {@code distinct}, {@code skip}, {@code sample}, {@code take}'s leftovers, the
 * buffers of {@code buffer} and {@code window} on cancel, the queues of {@code publishOn} and
 * {@code flatMap} on cancel or error) and what an operator throws for while the pipeline goes on.
 * Each gets its queue's default verdict at once, counted under {@link DefaultVerdictCause#DISCARD}
 * or {@link DefaultVerdictCause#HANDLER_ERROR}; an error is logged once per burst.
 *
 * <pre>{@code
 * receiver.receive()
 *         .filter(p -> isAllowed(p))
 *         .map(p -> inspect(p))                   // may throw: that packet gets the default verdict
 *         .transform(Verdicts.resolveDropped())   // last, so that it covers every operator above
 *         .subscribe(Packet::accept);
 * }</pre>
 *
 * <p>{@link PacketReceiver#receive(Function)} appends it for you, and is the safe form to use.
 * It works through the subscriber context (Reactor's discard hook and its on-next error strategy,
 * the mechanisms of {@code doOnDiscard} and {@code onErrorContinue}), so it covers the operators
 * <em>above</em> it only: put it last. An {@code onErrorContinue} of your own between it and the
 * operator that throws takes precedence: give the packet a verdict in its consumer then.
 *
 * <p>Elements that are not packets are looked into when they hold packets the way operators
 * group them ({@code Iterable}s, such as the lists of {@code buffer}; {@link ProcessedPacket});
 * an element that wraps a packet in a type of yours is not, and its packet waits for the verdict
 * timeout.
 *
 * <p>An error thrown for a packet no longer ends the stream (and so unbinds the queue): the
 * pipeline goes on with the next packet, which is what a packet filter wants. An inner publisher
 * of {@code flatMap}, {@code concatMap} or {@code flatMapSequential} that fails later is resumed
 * past as well, but Reactor does not say for which element, so its packet waits for the verdict
 * timeout: handle such errors in the inner, where the packet is at hand
 * ({@code flatMap(p -> work(p).onErrorResume(e -> { p.drop(); return Mono.empty(); }))}), or use
 * {@link PacketReceiver#processAsync}. Errors that end the stream anyway (the source's own, a
 * {@code timeout}) give every unresolved packet the default verdict.
 */
public final class Verdicts {
    private static final Logger LOG = System.getLogger("io.nfqueue.reactor");
    private static final long LOG_INTERVAL_NANOS = 1_000_000_000L;
    private static final AtomicLong errorsSinceLog = new AtomicLong();
    private static final AtomicLong lastErrorLog = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);

    private Verdicts() {
    }

    /**
     * Appends the discard hook and the on-error resume path that resolve dropped packets; use it
     * with {@code transform}, last in the chain.
     */
    public static <T> Function<Flux<T>, Flux<T>> resolveDropped() {
        return flux -> flux
                .doOnDiscard(Object.class, dropped -> resolve(dropped, DefaultVerdictCause.DISCARD))
                .onErrorContinue(Verdicts::continueAfter);
    }

    private static void continueAfter(Throwable error, Object element) {
        int resolved = resolve(element, DefaultVerdictCause.HANDLER_ERROR);
        logError(error, element, resolved > 0 ? "the packet got the default verdict"
                : element == null ? "Reactor names no element (an inner publisher failed): its packet waits for the "
                        + "verdict timeout; handle the error inside the inner, or use processAsync"
                : holdsPackets(element) ? "its packet already had a verdict"
                : "the element (" + element.getClass().getName() + ") holds no packet this can see: its packet waits "
                        + "for the verdict timeout");
    }

    private static boolean holdsPackets(Object element) {
        if (element instanceof Packet || element instanceof ProcessedPacket) {
            return true;
        }
        if (element instanceof Iterable<?> many) {
            for (Object o : many) {
                if (o instanceof Packet) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Gives every packet in {@code element} the default verdict; returns how many it resolved. */
    static int resolve(Object element, DefaultVerdictCause cause) {
        if (element instanceof Packet p) {
            return p.defaultVerdict(cause) ? 1 : 0;
        }
        if (element instanceof ProcessedPacket pp) {
            return pp.packet().defaultVerdict(cause) ? 1 : 0;
        }
        if (element instanceof Iterable<?> many) {
            int n = 0;
            for (Object o : many) {
                if (o instanceof Packet p && p.defaultVerdict(cause)) {
                    n++;
                }
            }
            return n;
        }
        return 0;
    }

    /** One line per second at most: an operator throwing for every packet must not flood the log. */
    private static void logError(Throwable error, Object element, String what) {
        long n = errorsSinceLog.incrementAndGet();
        long now = System.nanoTime();
        long last = lastErrorLog.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastErrorLog.compareAndSet(last, now)) {
            n = errorsSinceLog.getAndSet(0);
            LOG.log(Level.WARNING, n + " element(s) failed in a packet pipeline, which went on (logged at most once a "
                    + "second); last: " + what + ": " + error, error);
        }
    }
}
