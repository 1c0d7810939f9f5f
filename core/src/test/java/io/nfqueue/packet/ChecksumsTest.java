package io.nfqueue.packet;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.nfqueue.packet.TestPackets.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ChecksumsTest {
    @Test
    void rfc1071Example() {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (folded).
        byte[] data = hex("0001f203f4f5f6f7");
        assertEquals(0xDDF2, Checksums.sum(data, 0, data.length));
        assertEquals(0xDDF2, Checksums.sum(ByteBuffer.wrap(data), 0, data.length));
        assertEquals(0x220D, Checksums.checksum(data, 0, data.length));
    }

    @Test
    void wikipediaIpv4HeaderExample() {
        // The classic worked example: 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7.
        byte[] header = hex("450000730000400040110000c0a80001c0a800c7");
        assertEquals(0xB861, Checksums.checksum(header, 0, 20));
        header[10] = (byte) 0xB8;
        header[11] = 0x61;
        assertEquals(0xFFFF, Checksums.sum(ByteBuffer.wrap(header), 0, 20));
    }

    @Test
    void oddLengthPadsWithZero() {
        assertEquals(0xAB00, Checksums.sum(new byte[]{(byte) 0xAB}, 0, 1));
        assertEquals(Checksums.sum(hex("0102ab00"), 0, 4), Checksums.sum(hex("0102ab"), 0, 3));
    }

    @Test
    void byteOrderOfTheBufferDoesNotMatter() {
        byte[] data = new byte[1001];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        int expected = Checksums.sum(data, 0, data.length);
        assertEquals(expected, Checksums.sum(ByteBuffer.wrap(data), 0, data.length));
        assertEquals(expected, Checksums.sum(ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN), 0, data.length));
        ByteBuffer direct = ByteBuffer.allocateDirect(data.length + 3);
        direct.position(3);
        direct.put(data);
        assertEquals(expected, Checksums.sum(direct, 3, data.length));
        assertEquals(TestPackets.referenceChecksum(data), Checksums.checksum(data, 0, data.length));
    }

    @Test
    void updateOfACorrectChecksumEqualsRecomputation() {
        byte[] header = hex("450000730000400040110000c0a80001c0a800c7");
        int oldSum = Checksums.sum(header, 0, 20);
        int oldChecksum = ~oldSum & 0xFFFF;
        header[8] = 0x3F;  // TTL 64 -> 63
        int newSum = Checksums.sum(header, 0, 20);
        assertEquals(~newSum & 0xFFFF, Checksums.update(oldChecksum, oldSum, newSum));
    }

    @Test
    void anUpdateToAllZeroDataGivesNegativeZero() {
        // An ICMPv4 echo reply with id, sequence and data all zero: the message sums to +0 and
        // only a checksum of 0xFFFF makes it verify. Found by EditorPropertiesTest.
        byte[] zero = new byte[8];
        int oldSum = Checksums.sum(TestPackets.hex("0000000000010001"), 0, 8);
        assertEquals(0xFFFF, Checksums.update(~oldSum & 0xFFFF, oldSum, Checksums.sum(zero, 0, 8)));
        assertEquals(0xFFFF, TestPackets.referenceChecksum(zero));
    }

    @Test
    void rangesOutsideTheDataAreCallerErrors() {
        assertThrows(IllegalArgumentException.class, () -> Checksums.sum(new byte[4], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> Checksums.sum(ByteBuffer.allocate(4), 2, 3));
    }
}
