package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.Verdict;

import java.util.Optional;

/**
 * A packet after {@link PacketReceiver#process}: the verdict it got, whether that was the
 * default one, and the error that caused it, if any. The packet's metadata and payload stay
 * readable.
 */
public record ProcessedPacket(Packet packet, Verdict verdict, boolean byDefault, Throwable error) {

    public Optional<Throwable> failure() {
        return Optional.ofNullable(error);
    }
}
