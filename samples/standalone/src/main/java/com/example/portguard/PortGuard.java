package com.example.portguard;

import io.nfqueue.Packet;
import io.nfqueue.packet.PacketParser;
import reactor.core.publisher.Flux;

import java.util.Set;

/**
 * A small packet filter written as a Reactor pipeline: DNS passes, telnet is dropped, packets to
 * a blocked port are filtered out of the stream (the receiver gives them the default verdict,
 * DROP unless set otherwise), everything else is accepted.
 */
public final class PortGuard {
    private final Set<Integer> blockedPorts;

    public PortGuard(Set<Integer> blockedPorts) {
        this.blockedPorts = Set.copyOf(blockedPorts);
    }

    /** The pipeline, for {@code receiver.receive(guard::apply)}: emits the packets it let through. */
    public Flux<Packet> apply(Flux<Packet> packets) {
        return packets
                .filter(p -> !blockedPorts.contains(destinationPort(p)))   // the others: default verdict
                .filter(p -> {
                    PacketParser parsed = PacketParser.of(p);
                    if (parsed.isTcp() && parsed.destinationPort() == 23) {
                        p.drop();                                            // telnet: an explicit drop
                        return false;
                    }
                    return true;
                })
                .doOnNext(Packet::accept);
    }

    private static int destinationPort(Packet p) {
        PacketParser parsed = PacketParser.of(p);
        return parsed.hasTransportHeader() ? parsed.destinationPort() : -1;
    }
}
