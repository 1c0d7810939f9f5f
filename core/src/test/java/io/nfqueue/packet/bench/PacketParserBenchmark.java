package io.nfqueue.packet.bench;

import io.nfqueue.packet.ChecksumStatus;
import io.nfqueue.packet.Checksums;
import io.nfqueue.packet.PacketEditor;
import io.nfqueue.packet.PacketParser;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * What parsing costs: a TCP/IPv4 packet's 5-tuple read through a reused {@link PacketParser}
 * should allocate nothing ({@code -prof gc}: gc.alloc.rate.norm about 0 B/op).
 *
 * <pre>
 * cd core &amp;&amp; mvn -q -B -o -f ../pom.xml -pl native,core test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test-cp.txt -Dmdep.includeScope=test
 * java -cp target/test-classes:target/classes:$(cat target/test-cp.txt) org.openjdk.jmh.Main \
 *     PacketParserBenchmark -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PacketParserBenchmark {
    /** A TCP/IPv4 data segment with MSS/WS/SACK-permitted options and 64 bytes of data; checksums right. */
    private static final String TCP4 = "4500006c12344000400600007f0000017f00000230390050010203040a0b0c0d8018ffff00000000"
            + "020405b40103030a01010402";

    private final PacketParser parser = new PacketParser();
    private final byte[] address = new byte[16];
    private ByteBuffer tcp4;
    private ByteBuffer tcp6;
    private byte[] tcp4Bytes;

    @Setup
    public void setUp() {
        byte[] head = HexFormat.of().parseHex(TCP4);
        byte[] p = new byte[head.length + 64];
        System.arraycopy(head, 0, p, 0, head.length);
        for (int i = head.length; i < p.length; i++) {
            p[i] = (byte) i;
        }
        p[2] = 0;
        p[3] = (byte) p.length;
        // The hex has no checksums; fill them in (setUp checks the result verifies).
        tcp4Bytes = withChecksums(p);
        tcp4 = ByteBuffer.wrap(tcp4Bytes).asReadOnlyBuffer();
        tcp6 = ByteBuffer.wrap(HexFormat.of().parseHex(
                "600f3be6002b06400000000000000000000000000000000100000000000000000000000000000001"
                        + "bd6c251c4266609e2af7a0d580180040750c00000101080a38d9ec4251303685766563746f722074637036"))
                .asReadOnlyBuffer();
        if (parser.parse(tcp4).transportChecksumStatus() != ChecksumStatus.VALID) {
            throw new IllegalStateException("benchmark packet has a bad checksum: " + parser);
        }
    }

    private static byte[] withChecksums(byte[] p) {
        // Declared checksum-not-ready, the editor computes the TCP checksum in full rather than
        // updating the (zero) one; the IPv4 header checksum is then computed from scratch.
        byte[] out = PacketEditor.of(p, p.length, false, true).build();
        out[10] = 0;
        out[11] = 0;
        int c = Checksums.checksum(out, 0, 20);
        out[10] = (byte) (c >> 8);
        out[11] = (byte) c;
        return out;
    }

    /** Parse and read the 5-tuple (addresses into a reused array): the hot path of a filter. */
    @Benchmark
    public int parseTcp4FiveTuple() {
        PacketParser p = parser.parse(tcp4);
        p.copySourceAddress(address, 0);
        p.copyDestinationAddress(address, 4);
        return p.protocol() + p.sourcePort() + p.destinationPort() + address[0] + address[7];
    }

    @Benchmark
    public int parseTcp6FiveTuple() {
        PacketParser p = parser.parse(tcp6);
        p.copySourceAddress(address, 0);
        return p.protocol() + p.sourcePort() + p.destinationPort() + address[15];
    }

    /** Parse, then verify the IPv4 header and TCP checksums (104-byte packet). */
    @Benchmark
    public int parseTcp4AndVerifyChecksums() {
        PacketParser p = parser.parse(tcp4);
        return p.ipChecksumStatus().ordinal() + p.transportChecksumStatus().ordinal();
    }

    /** For scale: an edit allocates its result (and a few helpers). */
    @Benchmark
    public byte[] editTcp4DestinationPort() {
        return PacketEditor.of(tcp4Bytes).destinationPort(8080).build();
    }
}
