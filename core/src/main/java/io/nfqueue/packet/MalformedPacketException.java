package io.nfqueue.packet;

/**
 * The bytes are not a packet this package can read: a header is cut off, a length field
 * contradicts another or the buffer, a version or header length is impossible, an IPv6
 * extension-header chain is too long or runs past the end, an option list overruns its header.
 *
 * <p>This is the only exception the parsers throw for bad packet bytes, whatever the bytes are
 * (never an {@link IndexOutOfBoundsException}); the message names the header, the field and the
 * offset. It extends {@link IllegalArgumentException} because the bytes are the argument.
 *
 * <pre>{@code
 * try {
 *     parser.parse(packet.payload());
 * } catch (MalformedPacketException e) {
 *     log.debug("not parseable: {}", e.getMessage());
 *     packet.drop();
 * }
 * }</pre>
 */
public class MalformedPacketException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final int offset;

    /**
     * @param offset where in the buffer the problem was found (index of the header or field)
     */
    public MalformedPacketException(String message, int offset) {
        super(message + " (at offset " + offset + ")");
        this.offset = offset;
    }

    /** The buffer index of the header or field that is wrong. */
    public int offset() {
        return offset;
    }
}
