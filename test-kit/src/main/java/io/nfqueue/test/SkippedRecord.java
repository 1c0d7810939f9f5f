package io.nfqueue.test;

import io.nfqueue.test.pcap.LinkTypes;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A record of a capture that a {@link CaptureReplay} did not replay because it holds no IP
 * packet NFQUEUE could deliver: ARP, LLDP, a frame of a link type the decoder does not read, a
 * header cut short.
 *
 * @param captureIndex its place in the capture file, from 1
 * @param timestamp    when it was captured, if the file says
 * @param linkType     its link type ({@link LinkTypes})
 * @param reason       why it was skipped, e.g. "ethertype 0x0806 (ARP)"
 */
public record SkippedRecord(long captureIndex, Optional<Instant> timestamp, int linkType, String reason) {
    public SkippedRecord {
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(reason, "reason");
    }

    @Override
    public String toString() {
        return "#" + captureIndex + " skipped: " + reason;
    }
}
