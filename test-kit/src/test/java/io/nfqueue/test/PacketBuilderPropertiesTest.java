package io.nfqueue.test;

import io.nfqueue.packet.ChecksumStatus;
import io.nfqueue.packet.Checksums;
import io.nfqueue.packet.MalformedPacketException;
import io.nfqueue.packet.PacketEditor;
import io.nfqueue.packet.PacketParser;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Histogram;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsReport;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random builders (both IP versions, random addresses, ports, flags, options, extension
 * headers, payloads up to what the length fields allow) read back by the project's parser.
 */
class PacketBuilderPropertiesTest {
    /** Fixed, so a build is repeatable; change it to explore new samples. */
    static final String SEED = "20261127";

    @Provide
    Arbitrary<RandomPackets.Case> cases() {
        return RandomPackets.cases();
    }

    @Property(seed = SEED, tries = 500)
    @StatisticsReport(format = Histogram.class)
    void everyPacketParsesToWhatWasSetWithRightChecksums(@ForAll("cases") RandomPackets.Case c) {
        byte[] packet = c.builder().build();
        Statistics.label("kind").collect("IPv" + c.ip().version() + " " + c.transport().getClass().getSimpleName());
        Statistics.label("near 65535").collect(packet.length > 65000);
        Statistics.label("kind").coverage(check -> {
            for (String kind : List.of("UdpSpec", "TcpSpec", "IcmpSpec", "RawSpec")) {
                check.check("IPv4 " + kind).count(n -> n >= 10);
                check.check("IPv6 " + kind).count(n -> n >= 10);
            }
        });
        Statistics.label("near 65535").coverage(check -> check.check(true).count(n -> n >= 20));
        PacketParser p = PacketBuilderTest.parseWhole(packet);
        int version = c.ip().version();
        c.ip().check(p, c.transport().protocol(version), packet.length);
        c.transport().check(p);
        assertArrayEquals(c.payload(), PacketBuilderTest.payloadOf(p));
        assertEquals(c.ip().headerLength() + c.transport().headerLength(version) + c.payload().length, packet.length);
        ChecksumStatus expected = c.hasComputedChecksum() ? ChecksumStatus.VALID
                : p.hasTransportHeader() ? (version == 4 ? ChecksumStatus.ABSENT : ChecksumStatus.INVALID)
                : ChecksumStatus.UNVERIFIABLE;
        assertEquals(expected, p.transportChecksumStatus());
        if (c.hasComputedChecksum()) {
            // Summed by Checksums alone: the covered bytes plus the pseudo-header laid out here.
            assertEquals(0xFFFF, Checksums.add(pseudoHeaderSum(packet, p), Checksums.sum(packet, p.transportOffset(),
                    packet.length - p.transportOffset())));
        }
    }

    /** The pseudo-header's sum, laid out by the book (RFC 9293 3.1, RFC 8200 8.1); 0 for ICMPv4. */
    private static int pseudoHeaderSum(byte[] packet, PacketParser p) {
        int length = packet.length - p.transportOffset();
        if (p.isIpv4()) {
            if (p.isIcmp()) {
                return 0;
            }
            byte[] ph = new byte[12];
            System.arraycopy(packet, 12, ph, 0, 8);
            ph[9] = (byte) p.protocol();
            ph[10] = (byte) (length >>> 8);
            ph[11] = (byte) length;
            return Checksums.sum(ph, 0, 12);
        }
        byte[] ph = new byte[40];
        System.arraycopy(packet, 8, ph, 0, 32);
        ph[34] = (byte) (length >>> 8);
        ph[35] = (byte) length;
        ph[39] = (byte) p.protocol();
        return Checksums.sum(ph, 0, 40);
    }

    @Property(seed = SEED, tries = 300)
    void anEditOfNothingGivesTheSameBytes(@ForAll("cases") RandomPackets.Case c) {
        // Left out: UDP over IPv6 with a zero checksum, which PacketEditor turns into 0xFFFF (in
        // ones' complement the same, but RFC 6936's zero-checksum tunnels tell them apart).
        Assume.that(!(c.ip().version() == 6 && c.transport() instanceof RandomPackets.UdpSpec u && u.noChecksum()));
        byte[] packet = c.builder().build();
        assertArrayEquals(packet, PacketEditor.of(packet).build());
    }

    /**
     * Core's editor updates checksums incrementally (RFC 1624); the builder computes them whole:
     * an edit of a built packet must give what the builder builds with the new values.
     */
    @Property(seed = SEED, tries = 300)
    void anEditedPacketIsThePacketBuiltWithTheNewValues(@ForAll("cases") RandomPackets.Case c,
                                                        @ForAll @IntRange(max = 255) int ttl,
                                                        @ForAll @IntRange(max = 63) int dscp,
                                                        @ForAll @IntRange(max = 65535) int port,
                                                        @ForAll("addresses16") byte[] address,
                                                        @ForAll @Size(max = 300) byte[] payload) {
        Assume.that(!(c.ip().version() == 6 && c.transport() instanceof RandomPackets.UdpSpec u && u.noChecksum()));
        byte[] original = c.builder().build();
        PacketEditor editor = PacketEditor.of(original).ttl(ttl).dscp(dscp);
        IpPacketBuilder<?> expected = c.builder().ttl(ttl).dscp(dscp);
        if (!(c.transport() instanceof RandomPackets.RawSpec)) {
            byte[] a = Arrays.copyOf(address, c.ip().version() == 4 ? 4 : 16);
            editor = editor.destinationAddress(inet(a)).transportPayload(payload).allowTcpLengthChange();
            expected = expected.to(a).payload(payload);
        }
        if (expected instanceof PortPacketBuilder<?> ports) {
            editor = editor.sourcePort(port);
            expected = ports.sourcePort(port);
        }
        byte[] edited = editor.build();
        byte[] built = expected.build();
        assertArrayEquals(built, edited, () -> "built  " + HexFormat.of().formatHex(built)
                + "\nedited " + HexFormat.of().formatHex(edited));
    }

    @Provide
    Arbitrary<byte[]> addresses16() {
        return RandomPackets.address(16);
    }

    private static InetAddress inet(byte[] address) {
        try {
            return InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Property(seed = SEED, tries = 300)
    void aBrokenChecksumIsAlwaysInvalid(@ForAll("cases") RandomPackets.Case c) {
        IpPacketBuilder<?> builder = c.builder();
        if (c.hasComputedChecksum()) {
            PacketParser p = PacketParser.of(((TransportPacketBuilder<?>) builder).brokenTransportChecksum().build());
            assertEquals(ChecksumStatus.INVALID, p.transportChecksumStatus());
        }
        if (c.ip().version() == 4) {
            assertEquals(ChecksumStatus.INVALID, PacketParser.of(builder.brokenIpChecksum().build()).ipChecksumStatus());
        }
    }

    @Property(seed = SEED, tries = 300)
    void aTruncatedCopyParsesWhenItsHeadersAreWhole(@ForAll("cases") RandomPackets.Case c,
                                                     @ForAll @IntRange(min = 0, max = 1000) int cutBy) {
        IpPacketBuilder<?> builder = c.builder();
        byte[] whole = builder.build();
        int length = Math.max(0, whole.length - 1 - cutBy);
        byte[] cut = builder.buildTruncated(length);
        int headers = c.ip().headerLength() + c.transport().headerLength(c.ip().version());
        if (length < headers) {
            assertThrows(MalformedPacketException.class, () -> PacketParser.of(cut));
            return;
        }
        PacketParser p = PacketParser.of(cut);
        assertTrue(p.isTruncated());
        assertEquals(length, p.end());
        assertEquals(ChecksumStatus.UNVERIFIABLE, p.transportChecksumStatus());
        assertEquals(length - headers, p.transportPayloadLength());
    }
}
