package io.nfqueue.test;

import io.nfqueue.test.pcap.PcapngWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/** Capture files for the replay tests: the real ones under the pcap tests' resources, and small ones written here. */
final class TestCaptures {
    private TestCaptures() {
    }

    /** A real capture from the test resources (io/nfqueue/test/pcap/README.md says how each was made). */
    static Path real(String name) {
        URL url = TestCaptures.class.getResource("/io/nfqueue/test/pcap/" + name);
        if (url == null) {
            throw new IllegalStateException("no test capture " + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A pcapng file of {@code packets} (IP packets) stamped {@code times}, with the kit's writer. */
    static Path pcapng(Path file, List<Instant> times, List<byte[]> packets) {
        try (PcapngWriter out = PcapngWriter.create(file)) {
            for (int i = 0; i < packets.size(); i++) {
                out.write(times.get(i), packets.get(i), null);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A classic little-endian pcap file of link type {@code linkType} holding {@code frames}, one a second. */
    static Path classic(Path file, int linkType, byte[]... frames) throws IOException {
        int size = 24;
        for (byte[] f : frames) {
            size += 16 + f.length;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(linkType);
        int second = 1_700_000_000;
        for (byte[] f : frames) {
            b.putInt(second++).putInt(0).putInt(f.length).putInt(f.length).put(f);
        }
        return Files.write(file, b.array());
    }
}
