package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import io.nfqueue.VerdictAlreadyGivenException;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/** Gives a packet the verdict a function computed, or the default verdict if it failed. */
final class VerdictGiver {
    private VerdictGiver() {
    }

    static ProcessedPacket give(Packet p, Supplier<Verdict> decide, Verdict defaultVerdict) {
        Verdict v;
        try {
            v = decide.get();
            if (v == null) {
                throw new NullPointerException("the verdict function returned null for packet " + p.id());
            }
        } catch (Throwable e) {
            return fallback(p, e, defaultVerdict, DefaultVerdictCause.HANDLER_ERROR);
        }
        return apply(p, v, defaultVerdict);
    }

    static Mono<ProcessedPacket> giveAsync(Packet p, Function<? super Packet, ? extends Publisher<Verdict>> decide,
                                           Duration timeout, Verdict defaultVerdict) {
        Mono<Verdict> verdict = Mono.defer(() -> Mono.from(decide.apply(p)));
        if (timeout != null) {
            verdict = verdict.timeout(timeout);
        }
        return verdict
                .map(v -> apply(p, v, defaultVerdict))
                .switchIfEmpty(Mono.fromSupplier(() -> fallback(p,
                        new NoSuchElementException("no verdict for packet " + p.id()), defaultVerdict,
                        DefaultVerdictCause.HANDLER_ERROR)))
                .onErrorResume(e -> Mono.just(fallback(p, e, defaultVerdict,
                        e instanceof TimeoutException ? DefaultVerdictCause.TIMEOUT : DefaultVerdictCause.HANDLER_ERROR)));
    }

    private static ProcessedPacket apply(Packet p, Verdict v, Verdict defaultVerdict) {
        try {
            p.verdict(v);
            return new ProcessedPacket(p, v, false, null);
        } catch (VerdictAlreadyGivenException alreadyResolved) {
            // The function gave a verdict itself (or the packet timed out): that one stands.
            return new ProcessedPacket(p, null, false, alreadyResolved);
        } catch (RuntimeException refused) {
            // A verdict this queue cannot send (a flow decision without flow offload): the packet
            // is still open, and gets the default as for any failing function.
            return fallback(p, refused, defaultVerdict, DefaultVerdictCause.HANDLER_ERROR);
        }
    }

    private static ProcessedPacket fallback(Packet p, Throwable e, Verdict defaultVerdict, DefaultVerdictCause cause) {
        boolean resolvedNow = p.defaultVerdict(cause);
        return new ProcessedPacket(p, resolvedNow ? defaultVerdict : null, resolvedNow, e);
    }
}
