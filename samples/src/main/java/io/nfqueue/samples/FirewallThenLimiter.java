package io.nfqueue.samples;

import io.nfqueue.Packet;
import io.nfqueue.Verdict;

/**
 * The demo's policy, built from the samples' own stages without copying them: the
 * {@link Firewall} decides first; a packet it accepts (marked or not) then needs a token from
 * its source's bucket in the {@link RateLimiter}. So the limiter counts only what the firewall
 * let through, and a packet the firewall dropped costs its source no token.
 */
final class FirewallThenLimiter {
    private final Firewall firewall;
    private final RateLimiter limiter;
    private final boolean perFlow;

    FirewallThenLimiter(Firewall firewall, RateLimiter limiter) {
        this(firewall, limiter, false);
    }

    /**
     * {@code perFlow}: the firewall decides each connection on its first packet and the limiter
     * is left out (a flow decision covers every later packet, which the limiter never sees).
     */
    FirewallThenLimiter(Firewall firewall, RateLimiter limiter, boolean perFlow) {
        this.firewall = firewall;
        this.limiter = limiter;
        this.perFlow = perFlow;
    }

    /** The packet's verdict; called on one thread at a time (the receive thread). */
    Verdict decide(Packet packet) {
        if (perFlow) {
            return firewall.verdictFor(packet);
        }
        Verdict byRules = firewall.decide(packet);
        if (byRules.kind() != Verdict.Kind.ACCEPT) {
            return byRules;
        }
        Verdict byRate = limiter.decide(packet);
        // Within the rate the firewall's verdict stands (it may carry the rule's mark); over it
        // the limiter's (drop, or its own mark) wins.
        return byRate.equals(Verdict.accept()) ? byRules : byRate;
    }

    Firewall firewall() {
        return firewall;
    }

    RateLimiter limiter() {
        return limiter;
    }
}
