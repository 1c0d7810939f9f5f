package io.nfqueue.test.pcap;

import java.io.IOException;

/**
 * A capture file is not what its format says it must be: wrong magic, an unsupported version, a
 * length that points past its block or past the end of the file, a block too large to be real,
 * an interface that was never described. The message names the file (when known), the byte
 * offset of the header or field at fault, and what was wrong with it.
 *
 * <p>The reader throws this and {@link TruncatedCaptureException} (a subclass) for bad bytes,
 * whatever they are; other {@link IOException}s come from the file system or the stream.
 *
 * <pre>{@code
 * try (CaptureReader reader = CaptureReader.open(path)) {
 *     for (CaptureRecord r = reader.next(); r != null; r = reader.next()) {
 *         ...
 *     }
 * } catch (CaptureFormatException e) {
 *     fail("bad capture at byte " + e.offset() + ": " + e.problem());
 * }
 * }</pre>
 */
public class CaptureFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final long offset;
    private final String problem;

    /**
     * @param source  the file's name, or null when the bytes came from a stream without one
     * @param offset  byte offset in the file of the header or field at fault
     * @param problem what was wrong, without the offset
     */
    public CaptureFormatException(String source, long offset, String problem) {
        super((source == null ? "" : source + ": ") + "at byte offset " + offset + ": " + problem);
        this.offset = offset;
        this.problem = problem;
    }

    /** Byte offset in the file of the header or field at fault. */
    public long offset() {
        return offset;
    }

    /** What was wrong, without the file name and offset. */
    public String problem() {
        return problem;
    }
}
