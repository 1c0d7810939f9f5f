package io.nfqueue.test.pcap;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * The reader's view of the stream: exact reads that know their offset, and errors that name it.
 *
 * <p>Memory stays bounded by what actually arrives: a length read from a corrupt header may say
 * 16 MiB while the file has 100 bytes left, so large reads grow a buffer chunk by chunk instead of
 * allocating the claimed size up front.
 */
final class ByteInput implements Closeable {
    /** Reads up to this size allocate their buffer at once; larger ones grow as the bytes arrive. */
    private static final int CHUNK = 64 * 1024;

    private final InputStream in;
    private final String source;
    private final byte[] scratch = new byte[8192];
    private long offset;

    ByteInput(InputStream in, String source) {
        this.in = in;
        this.source = source;
    }

    /** Bytes consumed so far: the offset of the next byte. */
    long offset() {
        return offset;
    }

    /** Exactly {@code n} bytes; a file that ends first is a {@link TruncatedCaptureException} naming {@code what}. */
    byte[] read(int n, String what) throws IOException {
        long start = offset;
        byte[] b = readUpTo(n);
        if (b.length < n) {
            throw truncated(start, what + " needs " + n + " bytes but the file ends after " + b.length);
        }
        return b;
    }

    /** Up to {@code n} bytes: fewer only at the end of the file (to tell a clean end from a cut one). */
    byte[] readUpTo(int n) throws IOException {
        if (n <= CHUNK) {
            byte[] b = new byte[n];
            int got = in.readNBytes(b, 0, n);
            offset += got;
            return got == n ? b : Arrays.copyOf(b, got);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(CHUNK);
        byte[] chunk = new byte[CHUNK];
        int remaining = n;
        while (remaining > 0) {
            int got = in.readNBytes(chunk, 0, Math.min(remaining, CHUNK));
            out.write(chunk, 0, got);
            offset += got;
            remaining -= got;
            if (got == 0) {
                break;
            }
        }
        return out.toByteArray();
    }

    /** Skips exactly {@code n} bytes by reading them (so the end of the file is noticed, unlike with skip). */
    void skip(long n, String what) throws IOException {
        long start = offset;
        long remaining = n;
        while (remaining > 0) {
            int got = in.read(scratch, 0, (int) Math.min(remaining, scratch.length));
            if (got < 0) {
                throw truncated(start, what + " needs " + n + " bytes but the file ends after " + (n - remaining));
            }
            offset += got;
            remaining -= got;
        }
    }

    CaptureFormatException error(long at, String problem) {
        return new CaptureFormatException(source, at, problem);
    }

    TruncatedCaptureException truncated(long at, String problem) {
        return new TruncatedCaptureException(source, at, problem);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
