package io.nfqueue.test;

import io.nfqueue.test.pcap.CaptureReader;
import io.nfqueue.test.pcap.CaptureRecord;
import io.nfqueue.test.pcap.IpPacket;
import io.nfqueue.test.pcap.LinkLayerDecoder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A capture file read whole before a replay starts, so that a file that is missing, not a
 * capture, cut short or of a link type nothing reads fails before the pipeline sees a packet:
 * each record, in file order, either decoded into the IP packet NFQUEUE would deliver or
 * skipped with the decoder's reason.
 */
final class ReplayInput {
    /**
     * One record of the capture.
     *
     * @param index      its place in the file, from 1, counting every packet record
     * @param record     the record
     * @param ip         the IP packet in it, or null when it was skipped
     * @param skipReason why it was skipped, or null
     */
    record Item(long index, CaptureRecord record, IpPacket ip, String skipReason) {
    }

    private final String source;
    private final List<Item> items;

    private ReplayInput(String source, List<Item> items) {
        this.source = source;
        this.items = items;
    }

    /**
     * Reads {@code file}.
     *
     * @throws NoSuchFileException           when there is no such file
     * @throws io.nfqueue.test.pcap.CaptureFormatException when it is not a pcap or pcapng file, or a
     *                                       bad one (the message names the byte offset and what was found)
     * @throws UnsupportedLinkTypeException  when no record is of a link type the decoder reads
     * @throws IOException                   when it cannot be read
     */
    static ReplayInput read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        if (Files.notExists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such capture file");
        }
        if (Files.isDirectory(file)) {
            throw new IOException(file + ": a directory, not a capture file");
        }
        LinkLayerDecoder decoder = new LinkLayerDecoder();
        List<Item> items = new ArrayList<>();
        Set<Integer> unsupported = new LinkedHashSet<>();
        long unsupportedRecords = 0;
        try (CaptureReader reader = CaptureReader.open(file)) {
            long index = 0;
            for (CaptureRecord r = reader.next(); r != null; r = reader.next()) {
                index++;
                IpPacket ip = decoder.decode(r).orElse(null);
                if (ip == null && !LinkLayerDecoder.supportedLinkTypes().contains(r.linkType())) {
                    unsupported.add(r.linkType());
                    unsupportedRecords++;
                }
                items.add(new Item(index, r, ip, ip == null ? decoder.lastSkipReason().orElse("not an IP packet") : null));
            }
        }
        if (decoder.decodedCount() == 0 && !unsupported.isEmpty()) {
            throw new UnsupportedLinkTypeException(file.toString(), items.size(), unsupportedRecords, unsupported);
        }
        return new ReplayInput(file.toString(), items);
    }

    String source() {
        return source;
    }

    List<Item> items() {
        return items;
    }

    /** The records that hold an IP packet. */
    long packetCount() {
        return items.stream().filter(i -> i.ip() != null).count();
    }
}
