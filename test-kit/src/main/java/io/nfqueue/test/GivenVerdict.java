package io.nfqueue.test;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Verdict;

import java.util.Optional;

/**
 * What the kernel got for one offered packet: the verdict as the program (or the library) gave
 * it, and whether it was the queue's default verdict and why.
 *
 * @param packet       the packet
 * @param verdict      the verdict the kernel applied, with its mark and new payload, if any
 * @param defaultCause why the library gave the default verdict (timeout, cancel, error, ...);
 *                     empty when the program gave this verdict itself
 */
public record GivenVerdict(OfferedPacket packet, Verdict verdict, Optional<DefaultVerdictCause> defaultCause) {
    /** True when the program itself gave the verdict. */
    public boolean byProgram() {
        return defaultCause.isEmpty();
    }

    /** "ACCEPT mark 0x7 by the program", "DROP by default (TIMEOUT)". */
    public String describe() {
        return VerdictExpectation.describe(verdict) + defaultCause.map(c -> " by default (" + c + ")").orElse(" by the program");
    }

    @Override
    public String toString() {
        return packet + ": " + describe();
    }
}
