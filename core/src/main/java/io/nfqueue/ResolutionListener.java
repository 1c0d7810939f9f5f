package io.nfqueue;

/**
 * Told of every verdict a bound queue's packets get, on the thread that gave it, after the
 * verdict was queued for sending. For adapters (resume reading when capacity frees up) and
 * metrics (verdicts by kind, time to verdict). Must be short and must not throw.
 */
@FunctionalInterface
public interface ResolutionListener {
    /**
     * @param packet  the packet, now resolved
     * @param verdict the verdict it got
     * @param cause   why it got the default verdict, or null for the program's own verdict
     */
    void resolved(Packet packet, Verdict verdict, DefaultVerdictCause cause);
}
