package io.nfqueue.test.pcap;

/**
 * An interface a capture was taken on: a classic pcap file has one (index 0), a pcapng section
 * one per Interface Description Block, numbered from 0 in the order they appear.
 *
 * @param index                   the interface's number in its section (what records refer to)
 * @param linkType                the link-layer header type of its packets ({@link LinkTypes})
 * @param snapLength              the largest number of bytes captured per packet; 0: no limit
 * @param name                    {@code if_name} (pcapng), or "" when the file does not say
 * @param timestampUnitsPerSecond the timestamp resolution: 1,000,000 for microseconds,
 *                                1,000,000,000 for nanoseconds ({@code if_tsresol})
 * @param timestampOffsetSeconds  seconds added to every timestamp ({@code if_tsoffset}), usually 0
 */
public record CaptureInterface(int index, int linkType, long snapLength, String name, long timestampUnitsPerSecond,
                               long timestampOffsetSeconds) {
}
