package io.nfqueue.test.pcap;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Reads the packet records of a capture file: libpcap's classic format (either byte order,
 * microsecond or nanosecond timestamps) or pcapng (sections in either byte order, several
 * interfaces with their own link types and timestamp resolutions, Enhanced, Simple and the
 * obsolete Packet Blocks, comments; other blocks skipped), told apart by the magic number.
 *
 * <pre>{@code
 * LinkLayerDecoder decoder = new LinkLayerDecoder();
 * try (CaptureReader reader = CaptureReader.open(Path.of("capture.pcapng"))) {
 *     for (CaptureRecord record = reader.next(); record != null; record = reader.next()) {
 *         decoder.decode(record).ifPresent(ip -> offer(ip.hwProtocol(), ip.payloadBytes()));
 *     }
 * }
 * // or, at once:
 * List<CaptureRecord> records = CaptureReader.readAll(Path.of("capture.pcap"));
 * }</pre>
 *
 * <p>Bad bytes, whatever they are, throw a {@link CaptureFormatException} naming the byte
 * offset and the problem ({@link TruncatedCaptureException} when the file ends inside a header
 * or packet); the records before it were returned normally. Memory stays bounded: no block or
 * packet over {@link #MAX_BLOCK_BYTES} is accepted, and buffers grow with the bytes that really
 * arrive, not with the lengths a header claims. Every record consumes bytes, so reading ends.
 *
 * <p>Not thread-safe: read from one thread at a time.
 */
public final class CaptureReader implements Closeable {
    /**
     * The largest pcapng block or classic packet accepted: 16 MiB, far above any real packet
     * (a 64 KiB GSO packet, a BIG TCP one of a few hundred KiB), far below what would strain a
     * test's heap.
     */
    public static final int MAX_BLOCK_BYTES = 16 * 1024 * 1024;

    private static final int BUFFER = 64 * 1024;

    private final ByteInput in;
    private final CaptureFormat format;
    private final RecordSource source;
    /** Once a read failed, the stream is somewhere inside a bad block: every later read fails the same way. */
    private IOException failure;

    private CaptureReader(ByteInput in, CaptureFormat format, RecordSource source) {
        this.in = in;
        this.format = format;
        this.source = source;
    }

    /** Opens {@code file} and reads its header (a pcapng file's first section header). */
    public static CaptureReader open(Path file) throws IOException {
        InputStream stream = new BufferedInputStream(Files.newInputStream(file), BUFFER);
        try {
            return open(stream, file.toString());
        } catch (IOException | RuntimeException e) {
            stream.close();
            throw e;
        }
    }

    /** Reads a capture from {@code stream} (closed by {@link #close()}); messages name no file. */
    public static CaptureReader open(InputStream stream) throws IOException {
        return open(stream, null);
    }

    /**
     * Reads a capture from {@code stream} (closed by {@link #close()}), naming it {@code sourceName}
     * in error messages (null: none).
     */
    public static CaptureReader open(InputStream stream, String sourceName) throws IOException {
        // The reader asks for headers of a few bytes at a time: buffer unless the stream already is.
        boolean buffered = stream instanceof BufferedInputStream || stream instanceof ByteArrayInputStream;
        ByteInput in = new ByteInput(buffered ? stream : new BufferedInputStream(stream, BUFFER), sourceName);
        byte[] first = in.readUpTo(4);
        if (first.length == 0) {
            throw in.truncated(0, "the file is empty: no pcap or pcapng header");
        }
        if (first.length < 4) {
            throw in.truncated(0, "the magic number needs 4 bytes but the file ends after " + first.length);
        }
        int magic = ByteBuffer.wrap(first).getInt();
        if (magic == PcapngParser.SHB) {
            return new CaptureReader(in, CaptureFormat.PCAPNG, new PcapngParser(in));
        }
        if (ClassicPcapParser.isMagic(magic)) {
            return new CaptureReader(in, CaptureFormat.PCAP, new ClassicPcapParser(in, magic));
        }
        throw in.error(0, unknownMagic(magic));
    }

    /** Every record of {@code file}. */
    public static List<CaptureRecord> readAll(Path file) throws IOException {
        try (CaptureReader reader = open(file)) {
            return reader.readRemaining();
        }
    }

    /** Every record of the capture in {@code stream}, which is closed afterwards. */
    public static List<CaptureRecord> readAll(InputStream stream) throws IOException {
        try (CaptureReader reader = open(stream)) {
            return reader.readRemaining();
        }
    }

    /** The file's format. */
    public CaptureFormat format() {
        return format;
    }

    /**
     * The next packet record, or null at the end of the file.
     *
     * @throws CaptureFormatException where the bytes are wrong; then again on every later call
     */
    public CaptureRecord next() throws IOException {
        if (failure != null) {
            throw failure;
        }
        try {
            return source.next();
        } catch (IOException e) {
            failure = e;
            throw e;
        }
    }

    /** The records from here to the end of the file. */
    public List<CaptureRecord> readRemaining() throws IOException {
        List<CaptureRecord> records = new ArrayList<>();
        for (CaptureRecord r = next(); r != null; r = next()) {
            records.add(r);
        }
        return records;
    }

    /**
     * The records from here on, read lazily; an {@link IOException} surfaces as an
     * {@link UncheckedIOException} whose cause it is. Closing the stream closes this reader.
     *
     * <pre>{@code
     * try (Stream<CaptureRecord> records = CaptureReader.open(path).stream()) {
     *     records.forEach(r -> System.out.println(r));
     * }
     * }</pre>
     */
    public Stream<CaptureRecord> stream() {
        Iterator<CaptureRecord> records = new Iterator<>() {
            private CaptureRecord pending;
            private boolean ended;

            @Override
            public boolean hasNext() {
                if (pending == null && !ended) {
                    try {
                        pending = CaptureReader.this.next();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    ended = pending == null;
                }
                return pending != null;
            }

            @Override
            public CaptureRecord next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                CaptureRecord r = pending;
                pending = null;
                return r;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(records, Spliterator.ORDERED | Spliterator.NONNULL),
                false).onClose(() -> {
                    try {
                        close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    /**
     * The interfaces of the current section described so far: for classic pcap the file's one;
     * for pcapng those of the section the last record came from (a new section starts afresh).
     */
    public List<CaptureInterface> interfaces() {
        return source.interfaces();
    }

    /** Bytes read so far: where the next record starts. */
    public long offset() {
        return in.offset();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private static String unknownMagic(int magic) {
        if ((magic >>> 16) == 0x1f8b) {
            return "gzip-compressed data (magic 1f 8b): decompress the capture first";
        }
        if (magic == ClassicPcapParser.MAGIC_MODIFIED || Integer.reverseBytes(magic) == ClassicPcapParser.MAGIC_MODIFIED) {
            return String.format("magic number 0x%08x is the modified (Kuznetzov) pcap format, not supported:"
                    + " convert it with editcap -F pcap", magic);
        }
        String found = String.format("magic number 0x%08x", magic);
        if (isText(magic)) {
            // A rules file or a log given by mistake: say what it looks like rather than only its number.
            found = "text (\"" + new String(ByteBuffer.allocate(4).putInt(magic).array(), StandardCharsets.US_ASCII)
                    + "...\", " + found + ")";
        }
        return found + " is neither pcap (a1b2c3d4 or a1b23c4d, either byte order) nor pcapng (0a0d0d0a)";
    }

    /** Four printable ASCII characters (tab, newline and carriage return count). */
    private static boolean isText(int magic) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            int c = (magic >>> shift) & 0xff;
            if (!(c >= 0x20 && c < 0x7f || c == '\t' || c == '\n' || c == '\r')) {
                return false;
            }
        }
        return true;
    }
}
