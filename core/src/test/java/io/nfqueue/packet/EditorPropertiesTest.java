package io.nfqueue.packet;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Edits of valid packets give packets whose fields and checksums are what a from-scratch build gives. */
class EditorPropertiesTest {
    @Provide
    Arbitrary<byte[]> valid() {
        return PacketArbitraries.validPackets();
    }

    @Provide
    Arbitrary<byte[]> payloads() {
        return PacketArbitraries.payloads();
    }

    @Property(tries = 1000, seed = PropertySeeds.SEED)
    void editsGiveTheRequestedFieldsAndValidChecksums(@ForAll("valid") byte[] packet, @ForAll("payloads") byte[] payload,
                                                      @ForAll @IntRange(max = 255) int ttl,
                                                      @ForAll @IntRange(max = 63) int dscp,
                                                      @ForAll @IntRange(max = 65535) int port,
                                                      @ForAll long addressSeed) throws Exception {
        PacketParser original = PacketParser.of(packet);
        byte[] address = new byte[original.addressLength()];
        new Random(addressSeed).nextBytes(address);
        PacketEditor e = PacketEditor.of(packet).ttl(ttl).dscp(dscp).allowTcpLengthChange()
                .sourceAddress(InetAddress.getByAddress(address)).transportPayload(payload);
        if (original.isTcp() || original.isUdp()) {
            e.destinationPort(port);
        }
        byte[] out = e.build();

        PacketParser p = PacketParser.of(out);
        assertEquals(ChecksumStatus.VALID, p.transportChecksumStatus(), p.toString());
        assertTrue(TestPackets.transportChecksumOk(out), "reference checksum");
        if (p.isIpv4()) {
            assertEquals(ChecksumStatus.VALID, p.ipChecksumStatus());
            assertTrue(TestPackets.ipv4HeaderChecksumOk(out));
            assertEquals(ttl, p.ipv4().ttl());
            assertEquals(dscp, p.ipv4().dscp());
            assertEquals(out.length, p.ipv4().totalLength());
        } else {
            assertEquals(ttl, p.ipv6().hopLimit());
            assertEquals(dscp, p.ipv6().dscp());
            assertEquals(out.length - 40, p.ipv6().payloadLength());
        }
        byte[] src = new byte[address.length];
        p.copySourceAddress(src, 0);
        assertArrayEquals(address, src);
        if (p.isTcp() || p.isUdp()) {
            assertEquals(port, p.destinationPort());
        }
        assertEquals(ByteBuffer.wrap(payload), p.transportPayload());
        // Every byte outside the edited fields is the original's.
        assertEquals(original.transportPayloadOffset() - original.ipOffset(), p.transportPayloadOffset());
    }

    @Property(tries = 500, seed = PropertySeeds.SEED)
    void aWrongTransportChecksumStaysWrong(@ForAll("valid") byte[] packet, @ForAll("payloads") byte[] payload,
                                           @ForAll @IntRange(min = 1, max = 0xFFFE) int error) {
        PacketParser original = PacketParser.of(packet);
        int field = original.checksumFieldOffset();
        byte[] corrupt = packet.clone();
        int stored = TestPackets.get16(corrupt, field);
        int wrong = Checksums.add(stored, error);
        // Skip the one-in-a-few-thousand case where the error is the other zero (0x0000 vs 0xFFFF).
        net.jqwik.api.Assume.that(wrong != stored && !(original.isUdp() && wrong == 0));
        TestPackets.put16(corrupt, field, wrong);
        net.jqwik.api.Assume.that(PacketParser.of(corrupt).transportChecksumStatus() == ChecksumStatus.INVALID);
        byte[] out = PacketEditor.of(corrupt).allowTcpLengthChange().transportPayload(payload).ttl(1).build();
        byte[] fixed = out.clone();
        TestPackets.fixTransportChecksum(fixed);
        // Data that sums to zero has two checksums in ones' complement (0x0000 and 0xFFFF), and
        // the editor writes the one that verifies: an error there cannot be carried over.
        int right = TestPackets.get16(fixed, field);
        net.jqwik.api.Assume.that(right != 0xFFFF && right != 0x0000);
        assertEquals(ChecksumStatus.INVALID, PacketParser.of(out).transportChecksumStatus());
        assertNotEquals(right, TestPackets.get16(out, field));
    }

    @Property(tries = 500, seed = PropertySeeds.SEED)
    void anEmptyEditIsTheIdentity(@ForAll("valid") byte[] packet, @ForAll @IntRange(max = 30) int padding) {
        byte[] padded = Arrays.copyOf(packet, packet.length + padding);
        assertArrayEquals(packet, PacketEditor.of(padded).build());
    }

    @Property(tries = 500, seed = PropertySeeds.SEED)
    void checksumNotReadyPacketsComeOutComplete(@ForAll("valid") byte[] packet, @ForAll @IntRange(max = 65535) int partial) {
        PacketParser original = PacketParser.of(packet);
        byte[] notReady = packet.clone();
        TestPackets.put16(notReady, original.checksumFieldOffset(), partial);
        assertArrayEquals(packet, PacketEditor.of(notReady, notReady.length, false, true).build());
    }

    @Provide
    Arbitrary<byte[]> data() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(3000);
    }

    @Property(tries = 500, seed = PropertySeeds.SEED)
    void theFastSumEqualsTheReference(@ForAll("data") byte[] data, @ForAll @IntRange(max = 7) int offset) {
        ByteBuffer b = ByteBuffer.allocate(data.length + offset);
        b.position(offset);
        b.put(data);
        assertEquals(TestPackets.referenceChecksum(data), ~Checksums.sum(b, offset, data.length) & 0xFFFF);
        assertEquals(TestPackets.referenceChecksum(data), Checksums.checksum(data, 0, data.length));
    }
}
