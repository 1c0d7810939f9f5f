package io.nfqueue.test.pcap;

/**
 * The file ends inside a header or a packet: a capture cut short (the capturing program was
 * killed, the copy was incomplete, or a length field was corrupted and points past the end).
 * The records before the cut were returned normally by {@link CaptureReader#next()}.
 */
public class TruncatedCaptureException extends CaptureFormatException {
    private static final long serialVersionUID = 1L;

    public TruncatedCaptureException(String source, long offset, String problem) {
        super(source, offset, problem);
    }
}
