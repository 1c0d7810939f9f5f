package io.nfqueue.test.example;

import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import io.nfqueue.packet.PacketParser;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;

/**
 * The code under test of the example project: what a user of the library writes. A small edge
 * firewall as a pipeline: DNS and HTTPS pass, HTTPS marked for the shaper (mark 7), telnet is
 * dropped, and anything else waits for a (slow) policy lookup that takes a second and accepts.
 * Its test is {@link EdgeFirewallTest}; it runs with the kit, without root or the JNI library.
 */
// snippet:edge-firewall
public final class EdgeFirewall {
    static final int HTTPS_MARK = 7;
    private final Duration lookupTime;

    public EdgeFirewall(Duration lookupTime) {
        this.lookupTime = lookupTime;
    }

    /** The pipeline, for {@code receiver.receive(firewall::apply)}. */
    public Flux<Packet> apply(Flux<Packet> packets) {
        return packets.flatMap(this::decide);
    }

    private Mono<Packet> decide(Packet p) {
        PacketParser parsed = PacketParser.of(p);
        int port = parsed.hasTransportHeader() ? parsed.destinationPort() : -1;
        if (parsed.isUdp() && port == 53) {
            p.accept();
        } else if (parsed.isTcp() && port == 443) {
            p.verdict(Verdict.accept().withMark(HTTPS_MARK));
        } else if (parsed.isTcp() && port == 23) {
            p.drop();
        } else {
            return Mono.delay(lookupTime).map(x -> {
                p.accept();
                return p;
            });
        }
        return Mono.just(p);
    }
}
// end-snippet
