package io.nfqueue.testing;

import io.nfqueue.test.kernel.NetNamespace;

import java.time.Duration;
import java.util.List;

/**
 * Makes the kernel stamp received packets while it is open. The kernel stamps a packet on
 * receive ({@code skb->tstamp}, which NFQUEUE reports as the packet's timestamp) only while
 * some socket on the host asked for receive timestamps (the global {@code netstamp_needed}
 * switch). Java cannot set {@code SO_TIMESTAMP}, so a small perl process (perl-base is in every
 * Debian) holds such a socket inside {@code ns} until closed. The kernel turns the switch on
 * from a work queue, a moment later: callers wait for a stamped packet with a bound.
 */
public final class RxTimestamps implements AutoCloseable {
    /** SOL_SOCKET and SO_TIMESTAMP(_OLD) of asm-generic/socket.h (x86_64, aarch64, ...). */
    private static final String SCRIPT = "use Socket; socket(my $s, PF_INET, SOCK_DGRAM, 0) or die \"socket: $!\";"
            + " setsockopt($s, 1, 29, pack('i', 1)) or die \"setsockopt SO_TIMESTAMP: $!\";"
            + " $| = 1; print \"READY\\n\"; while (<STDIN>) {}";

    private final ChildProcess perl;

    private RxTimestamps(ChildProcess perl) {
        this.perl = perl;
    }

    public static RxTimestamps enable(NetNamespace ns) {
        ChildProcess perl = ChildProcess.start(List.of("ip", "netns", "exec", ns.name(), "perl", "-e", SCRIPT));
        try {
            perl.awaitLine("READY", Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            perl.close();
            throw e;
        }
        return new RxTimestamps(perl);
    }

    @Override
    public void close() {
        perl.close();
    }
}
