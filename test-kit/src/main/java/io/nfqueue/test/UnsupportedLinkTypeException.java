package io.nfqueue.test;

import io.nfqueue.test.pcap.LinkLayerDecoder;
import io.nfqueue.test.pcap.LinkTypes;

import java.io.IOException;
import java.util.Collection;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A capture holds nothing to replay because every record is of a link type the replay does not
 * decode (802.11 radio frames, USB, Bluetooth, ...): the message names the types found and the
 * ones that are read. A capture that mixes such records with readable ones is replayed; the
 * others are reported as skipped.
 */
public final class UnsupportedLinkTypeException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Set<Integer> linkTypes;

    /**
     * @param records     the records in the capture
     * @param unsupported how many of them are of a link type the decoder does not read
     * @param linkTypes   those link types
     */
    UnsupportedLinkTypeException(String source, long records, long unsupported, Set<Integer> linkTypes) {
        super(source + ": nothing to replay: " + (unsupported == records ? (records == 1 ? "its record is" : "all "
                + records + " records are") : unsupported + " of its " + records + " records are")
                + " of link type " + names(linkTypes) + ", which the replay does not decode (it reads "
                + names(LinkLayerDecoder.supportedLinkTypes()) + ")"
                + (unsupported == records ? "" : "; the others hold no IP packet"));
        this.linkTypes = Set.copyOf(linkTypes);
    }

    /** The link types found in the capture ({@link LinkTypes} numbers). */
    public Set<Integer> linkTypes() {
        return linkTypes;
    }

    private static String names(Collection<Integer> types) {
        return types.stream().sorted().map(LinkTypes::name).collect(Collectors.joining(", "));
    }
}
