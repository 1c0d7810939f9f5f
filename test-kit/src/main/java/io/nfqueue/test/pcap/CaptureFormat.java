package io.nfqueue.test.pcap;

/** The two capture file formats {@link CaptureReader} reads. */
public enum CaptureFormat {
    /** libpcap's classic format (tcpdump's default): one link type for the whole file. */
    PCAP,
    /** pcapng (Wireshark's and dumpcap's default): sections, several interfaces, comments. */
    PCAPNG
}
