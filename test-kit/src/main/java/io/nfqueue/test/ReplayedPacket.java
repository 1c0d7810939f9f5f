package io.nfqueue.test;

import io.nfqueue.test.pcap.IpPacket;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One packet of a capture as a {@link CaptureReplay} replayed it, and what it got.
 *
 * @param captureIndex    its record's place in the capture file, from 1 (as Wireshark numbers
 *                        frames), counting the records that were skipped
 * @param timestamp       when it was captured, if the file says
 * @param summary         one line: hook, protocol, addresses and ports, length
 * @param offered         the packet as the queue was offered it (its id is the pipeline's {@code Packet.id()})
 * @param verdict         the verdict the queue applied, the program's or the default; empty when
 *                        it got none
 * @param noVerdictReason why it got none; empty when it got one
 * @param captured        the IP packet taken from the capture
 */
public record ReplayedPacket(long captureIndex, Optional<Instant> timestamp, String summary, OfferedPacket offered,
                             Optional<GivenVerdict> verdict, Optional<String> noVerdictReason, IpPacket captured) {
    public ReplayedPacket {
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(offered, "offered");
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(noVerdictReason, "noVerdictReason");
        Objects.requireNonNull(captured, "captured");
        if (verdict.isPresent() == noVerdictReason.isPresent()) {
            throw new IllegalArgumentException("a packet has a verdict or a reason for having none, not both or neither");
        }
    }

    /** "DROP by the program", "ACCEPT by default (TIMEOUT)", or "none: " and why. */
    public String verdictText() {
        return verdict.map(GivenVerdict::describe).orElseGet(() -> "none: " + noVerdictReason.orElseThrow());
    }

    @Override
    public String toString() {
        return "#" + captureIndex + " " + summary + " => " + verdictText();
    }
}
