package io.nfqueue.packet;

import io.nfqueue.Verdict;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static io.nfqueue.packet.TestPackets.V4_A;
import static io.nfqueue.packet.TestPackets.V4_B;
import static io.nfqueue.packet.TestPackets.get16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketEditorTest {
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** The edited packet equals one built from scratch with the new values, checksums and all. */
    @Test
    void udpPayloadLongerAndShorterMatchesAPacketBuiltFromScratch() {
        byte[] original = TestPackets.udp4(ascii("hello"));
        for (String text : new String[]{"hello, world, a longer payload", "hi", ""}) {
            byte[] edited = PacketEditor.of(original).transportPayload(ascii(text)).build();
            assertArrayEquals(TestPackets.udp4(ascii(text)), edited, text);
        }
        byte[] original6 = TestPackets.udp6(ascii("hello"));
        byte[] edited6 = PacketEditor.of(original6).transportPayload(ascii("bonjour le monde")).build();
        assertArrayEquals(TestPackets.udp6(ascii("bonjour le monde")), edited6);
    }

    @Test
    void addressesPortsTtlDscpOfTcp4() throws Exception {
        byte[] original = TestPackets.tcp4(ascii("data"));
        byte[] edited = PacketEditor.of(original)
                .sourceAddress(InetAddress.getByName("127.0.0.1"))
                .destinationAddress(InetAddress.getByName("127.0.0.2"))
                .sourcePort(1111)
                .destinationPort(2222)
                .ttl(3)
                .dscp(10)
                .ecn(1)
                .build();
        PacketParser p = PacketParser.of(edited);
        assertEquals(InetAddress.getByName("127.0.0.1"), p.sourceAddress());
        assertEquals(InetAddress.getByName("127.0.0.2"), p.destinationAddress());
        assertEquals(1111, p.sourcePort());
        assertEquals(2222, p.destinationPort());
        assertEquals(3, p.ipv4().ttl());
        assertEquals(10, p.ipv4().dscp());
        assertEquals(1, p.ipv4().ecn());
        assertEquals(ChecksumStatus.VALID, p.ipChecksumStatus());
        assertEquals(ChecksumStatus.VALID, p.transportChecksumStatus());
        assertTrue(TestPackets.ipv4HeaderChecksumOk(edited));
        assertTrue(TestPackets.transportChecksumOk(edited));
        assertEquals(original.length, edited.length);
    }

    @Test
    void ipv6HopLimitTrafficClassAddressesKeepTheFlowLabel() throws Exception {
        byte[] original = TestPackets.tcp6(ascii("x"));
        byte[] edited = PacketEditor.of(original).hopLimit(1).dscp(0).ecn(3)
                .destinationAddress(InetAddress.getByName("::1")).build();
        PacketParser p = PacketParser.of(edited);
        assertEquals(1, p.ipv6().hopLimit());
        assertEquals(0, p.ipv6().dscp());
        assertEquals(3, p.ipv6().ecn());
        assertEquals(0x12345, p.ipv6().flowLabel());
        assertEquals(InetAddress.getByName("::1"), p.destinationAddress());
        assertEquals(ChecksumStatus.VALID, p.transportChecksumStatus());
    }

    @Test
    void icmpPayloadsAndIcmpv6Addresses() throws Exception {
        byte[] e4 = PacketEditor.of(TestPackets.icmp4Echo(new byte[8])).transportPayload(ascii("ping!")).build();
        assertArrayEquals(TestPackets.icmp4Echo(ascii("ping!")), e4);
        byte[] e6 = PacketEditor.of(TestPackets.icmp6Echo(new byte[8]))
                .sourceAddress(InetAddress.getByName("fe80::1")).build();
        assertEquals(ChecksumStatus.VALID, PacketParser.of(e6).transportChecksumStatus());
    }

    @Test
    void aWrongChecksumStaysWrongByTheSameAmount() {
        byte[] original = TestPackets.udp4(ascii("hello"));
        original[27] ^= 0x10;    // corrupted in transit
        byte[] edited = PacketEditor.of(original).transportPayload(ascii("replacement")).build();
        assertEquals(ChecksumStatus.INVALID, PacketParser.of(edited).transportChecksumStatus());
        byte[] fixed = edited.clone();
        TestPackets.fixTransportChecksum(fixed);
        assertEquals(0x10, get16(fixed, 26) ^ get16(edited, 26), "the error is carried over unchanged");
    }

    @Test
    void aChecksumNotReadyPacketGetsAFullChecksumEvenWithoutEdits() {
        byte[] original = TestPackets.tcp4(ascii("abc"));
        // What the kernel hands over for CHECKSUM_PARTIAL: the field holds the pseudo-header sum only.
        byte[] partial = original.clone();
        TestPackets.put16(partial, 36, 0x1234);
        byte[] rebuilt = PacketEditor.of(partial, partial.length, false, true).build();
        assertArrayEquals(original, rebuilt);
        byte[] ttl = PacketEditor.of(partial, partial.length, false, true).ttl(9).build();
        assertEquals(ChecksumStatus.VALID, PacketParser.of(ttl).transportChecksumStatus());
    }

    @Test
    void udpWithoutChecksumStaysWithout() {
        byte[] original = TestPackets.udp4(ascii("abc"));
        original[26] = 0;
        original[27] = 0;
        byte[] edited = PacketEditor.of(original).destinationPort(9).transportPayload(ascii("abcdef")).build();
        assertEquals(0, get16(edited, 26));
        assertEquals(ChecksumStatus.VALID, PacketParser.of(edited).ipChecksumStatus());
    }

    @Test
    void ipv4OptionsAndPaddingAreHandled() {
        byte[] withOptions = TestPackets.ipv4(17, V4_A, V4_B, TestPackets.hex("94040000"), TestPackets.udp(1, 2, ascii("ab")));
        byte[] padded = Arrays.copyOf(withOptions, withOptions.length + 6);
        byte[] edited = PacketEditor.of(padded).transportPayload(ascii("abcd")).build();
        assertArrayEquals(TestPackets.ipv4(17, V4_A, V4_B, TestPackets.hex("94040000"),
                TestPackets.udp(1, 2, ascii("abcd"))), edited);
        assertEquals(withOptions.length, PacketEditor.of(padded).build().length, "padding dropped");
    }

    @Test
    void refusesTruncatedCopiesAndGso() {
        byte[] p = TestPackets.udp4(new byte[100]);
        PacketEditRefusedException cut = assertThrows(PacketEditRefusedException.class,
                () -> PacketEditor.of(Arrays.copyOf(p, 60)));
        assertEquals(PacketEditRefusedException.Reason.TRUNCATED, cut.reason());
        PacketEditRefusedException cut2 = assertThrows(PacketEditRefusedException.class,
                () -> PacketEditor.of(p, p.length + 100, false, false));
        assertEquals(PacketEditRefusedException.Reason.TRUNCATED, cut2.reason());
        PacketEditRefusedException gso = assertThrows(PacketEditRefusedException.class,
                () -> PacketEditor.of(p, p.length, true, true));
        assertEquals(PacketEditRefusedException.Reason.GSO, gso.reason());
        assertTrue(gso.getMessage().contains("gso(false)"), gso.getMessage());
    }

    @Test
    void refusesTransportEditsOfFragmentsButNotTtl() throws Exception {
        byte[] p = TestPackets.udp4(new byte[16]);
        TestPackets.put16(p, 6, 0x2000);   // MF: a first fragment
        TestPackets.fixIpv4HeaderChecksum(p);
        PacketEditor editor = PacketEditor.of(p);
        PacketEditRefusedException e = assertThrows(PacketEditRefusedException.class, () -> editor.destinationPort(1));
        assertEquals(PacketEditRefusedException.Reason.FRAGMENT, e.reason());
        assertThrows(PacketEditRefusedException.class, () -> editor.sourceAddress(InetAddress.getByName("1.2.3.4")));
        assertThrows(PacketEditRefusedException.class, () -> editor.transportPayload(new byte[1]));
        byte[] edited = editor.ttl(1).build();
        assertEquals(ChecksumStatus.VALID, PacketParser.of(edited).ipChecksumStatus());
        assertArrayEquals(Arrays.copyOfRange(p, 20, p.length), Arrays.copyOfRange(edited, 20, edited.length));
    }

    @Test
    void refusesWhatItCannotChecksum() {
        byte[] sctp = TestPackets.ipv4(132, V4_A, V4_B, new byte[0], new byte[16]);
        PacketEditRefusedException e = assertThrows(PacketEditRefusedException.class,
                () -> PacketEditor.of(sctp).destinationPort(1));
        assertEquals(PacketEditRefusedException.Reason.UNSUPPORTED_PROTOCOL, e.reason());
        assertEquals(1, PacketParser.of(PacketEditor.of(sctp).ttl(1).build()).ipv4().ttl(), "TTL is fine");
        PacketEditRefusedException notReady = assertThrows(PacketEditRefusedException.class,
                () -> PacketEditor.of(sctp, sctp.length, false, true).ttl(1).build());
        assertEquals(PacketEditRefusedException.Reason.CHECKSUM_NOT_READY, notReady.reason());
        byte[] icmp = TestPackets.icmp4Echo(new byte[1]);
        assertEquals(PacketEditRefusedException.Reason.UNSUPPORTED_PROTOCOL, assertThrows(
                PacketEditRefusedException.class, () -> PacketEditor.of(icmp).sourcePort(1)).reason());
    }

    @Test
    void tcpLengthChangeNeedsConsent() {
        byte[] p = TestPackets.tcp4(ascii("four"));
        PacketEditRefusedException e = assertThrows(PacketEditRefusedException.class,
                () -> PacketEditor.of(p).transportPayload(ascii("five!")).build());
        assertEquals(PacketEditRefusedException.Reason.TCP_LENGTH_CHANGE, e.reason());
        byte[] same = PacketEditor.of(p).transportPayload(ascii("FOUR")).build();
        assertArrayEquals(TestPackets.tcp4(ascii("FOUR")), same);
        byte[] longer = PacketEditor.of(p).allowTcpLengthChange().transportPayload(ascii("five!")).build();
        assertArrayEquals(TestPackets.tcp4(ascii("five!")), longer);
    }

    @Test
    void argumentsAreChecked() throws Exception {
        PacketEditor e = PacketEditor.of(TestPackets.udp4(new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> e.sourcePort(65536));
        assertThrows(IllegalArgumentException.class, () -> e.ttl(256));
        assertThrows(IllegalArgumentException.class, () -> e.dscp(64));
        assertThrows(IllegalArgumentException.class, () -> e.ecn(4));
        assertThrows(IllegalArgumentException.class, () -> e.sourceAddress(InetAddress.getByName("::1")));
        assertThrows(IllegalArgumentException.class, () -> e.transportPayload(new byte[Verdict.MAX_PAYLOAD]));
        assertThrows(MalformedPacketException.class, () -> PacketEditor.of(new byte[3]));
    }

    @Test
    void buildsAVerdict() {
        byte[] p = TestPackets.udp4(ascii("a"));
        Verdict v = PacketEditor.of(p).transportPayload(ascii("b")).acceptVerdict();
        assertEquals(Verdict.Kind.ACCEPT, v.kind());
        assertArrayEquals(TestPackets.udp4(ascii("b")), v.payload());
        assertNotEquals(get16(p, 26), get16(v.payload(), 26));
    }
}
