package io.nfqueue.packet;

import io.nfqueue.test.IpPacketBuilder;
import io.nfqueue.test.Packets;
import io.nfqueue.test.TcpOption;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.nfqueue.packet.TestPackets.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The test kit's builders against two references they share no code with: packets the Linux
 * kernel built (core's {@link KernelCapturedVectorsTest}), and core's hand-built
 * {@link TestPackets}, whose checksums come from an implementation written literally from the
 * RFCs. In this package for their package-private vectors and helpers.
 *
 * <p>The kernel's packets cannot be sent again from here (the JDK has no raw sockets, and the
 * shim none either), so the comparison runs the other way: the builders make the same packets,
 * taking from the captures only what the kernel chose at random or by clock (ephemeral ports,
 * IPv4 identification, IPv6 flow labels, sequence numbers, timestamps), and must produce the
 * kernel's bytes to the last one, lengths and checksums included.
 */
class PacketBuilderReferencesTest {
    static final String SEED = "20261127";

    @Test
    void udpOverIpv4AsTheKernelBuiltIt() {
        byte[] kernel = hex(KernelCapturedVectorsTest.UDP4);
        PacketParser k = PacketParser.of(kernel);
        byte[] built = Packets.udp().from("127.0.0.1", k.sourcePort()).to("127.0.0.1", 9400)
                .identification(k.ipv4().identification()).dontFragment()
                .payload("vector udp4").build();
        assertArrayEquals(kernel, built, () -> hex(built));
    }

    @Test
    void udpOverIpv6AsTheKernelBuiltIt() {
        byte[] kernel = hex(KernelCapturedVectorsTest.UDP6);
        PacketParser k = PacketParser.of(kernel);
        byte[] built = Packets.udp().from("::1", k.sourcePort()).to("::1", 9400).flowLabel(k.ipv6().flowLabel())
                .payload("vector udp6").build();
        assertArrayEquals(kernel, built, () -> hex(built));
    }

    @Test
    void theKernelsPortUnreachableOverIpv4() {
        byte[] kernel = hex(KernelCapturedVectorsTest.ICMP4);
        PacketParser k = PacketParser.of(kernel);
        // Linux sends ICMP errors with TOS 0xC0 (precedence "internetwork control") and no DF.
        byte[] built = Packets.icmp().from("127.0.0.1").to("127.0.0.1").tos(0xC0)
                .identification(k.ipv4().identification())
                .portUnreachable(hex(KernelCapturedVectorsTest.UDP4)).build();
        assertArrayEquals(kernel, built, () -> hex(built));
    }

    @Test
    void theKernelsPortUnreachableOverIpv6() {
        byte[] kernel = hex(KernelCapturedVectorsTest.ICMP6);
        PacketParser k = PacketParser.of(kernel);
        byte[] built = Packets.icmp().from("::1").to("::1").flowLabel(k.ipv6().flowLabel())
                .portUnreachable(hex(KernelCapturedVectorsTest.UDP6)).build();
        assertArrayEquals(kernel, built, () -> hex(built));
    }

    @Test
    void aTcpDataSegmentWithTimestampsAsTheKernelBuiltIt() {
        byte[] kernel = hex(KernelCapturedVectorsTest.TCP6_DATA);
        PacketParser k = PacketParser.of(kernel);
        TcpView t = k.tcp();
        byte[] built = Packets.tcp().from("::1", t.sourcePort()).to("::1", 9500).flowLabel(k.ipv6().flowLabel())
                .seq(t.sequenceNumber()).ack(t.acknowledgmentNumber()).psh().window(64)
                .nop().nop().option(timestampsOf(t))
                .payload("vector tcp6").build();
        assertArrayEquals(kernel, built, () -> hex(built));
    }

    @Test
    void aTcpAckAsTheKernelBuiltIt() {
        byte[] kernel = hex(KernelCapturedVectorsTest.TCP6_ACK);
        PacketParser k = PacketParser.of(kernel);
        TcpView t = k.tcp();
        byte[] built = Packets.tcp().from("::1", 9500).to("::1", t.destinationPort()).flowLabel(k.ipv6().flowLabel())
                .seq(t.sequenceNumber()).ack(t.acknowledgmentNumber()).window(64)
                .nop().nop().option(timestampsOf(t))
                .build();
        assertArrayEquals(kernel, built, () -> hex(built));
    }

    /** The captured segment's timestamp values (the kernel's clock), as an option to build with. */
    private static TcpOption timestampsOf(TcpView t) {
        int at = t.findOption(TcpView.OPTION_TIMESTAMPS);
        return TcpOption.timestamps(Bytes.u32(t.buffer(), at + 2), Bytes.u32(t.buffer(), at + 6));
    }

    @Provide
    Arbitrary<byte[]> payloads() {
        return PacketArbitraries.payloads();
    }

    @Provide
    Arbitrary<byte[]> ipv4Options() {
        return PacketArbitraries.ipv4Options();
    }

    @Provide
    Arbitrary<byte[]> addresses() {
        return PacketArbitraries.addresses(16);
    }

    @Provide
    Arbitrary<Integer> protocols() {
        return Arbitraries.of(IpProtocols.TCP, IpProtocols.UDP, IpProtocols.ICMP);
    }

    /** The same random packet from both: TCP, UDP or ICMP(v6), IPv4 with options or IPv6 with extension headers. */
    @Property(seed = SEED, tries = 500)
    void theBuildersMakeTestPacketsBytes(@ForAll boolean v6, @ForAll("protocols") int protocol,
                                         @ForAll("addresses") byte[] source, @ForAll("addresses") byte[] destination,
                                         @ForAll @IntRange(max = 65535) int sourcePort,
                                         @ForAll @IntRange(max = 65535) int destinationPort,
                                         @ForAll @IntRange(max = 0x1FF) int flags, @ForAll @IntRange(max = 10) int tcpOptionWords,
                                         @ForAll @IntRange(max = 255) int icmpType, @ForAll("ipv4Options") byte[] ipv4Options,
                                         @ForAll @IntRange(max = 3) int extensions,
                                         @ForAll @IntRange(min = 1, max = 4) int extWords,
                                         @ForAll("payloads") byte[] payload) {
        byte[] src = v6 ? source : Arrays.copyOf(source, 4);
        byte[] dst = v6 ? destination : Arrays.copyOf(destination, 4);
        long seq = (sourcePort * 65537L) ^ 0x9E3779B9L;
        byte[] tcpOptions = new byte[tcpOptionWords * 4];
        Arrays.fill(tcpOptions, (byte) TcpView.OPTION_NOP);
        int wireProtocol = protocol == IpProtocols.ICMP && v6 ? IpProtocols.ICMPV6 : protocol;
        byte[] transport;
        IpPacketBuilder<?> builder;
        switch (protocol) {
            case IpProtocols.TCP:
                transport = TestPackets.tcp(sourcePort, destinationPort, seq, seq ^ 0x5555, flags, tcpOptions, payload);
                builder = Packets.tcp().sourcePort(sourcePort).destinationPort(destinationPort).seq(seq)
                        .ackNumber(seq ^ 0x5555).flags(flags).option(TcpOption.raw(tcpOptions));
                break;
            case IpProtocols.UDP:
                transport = TestPackets.udp(sourcePort, destinationPort, payload);
                builder = Packets.udp().sourcePort(sourcePort).destinationPort(destinationPort);
                break;
            default:
                transport = TestPackets.icmpEcho(icmpType, sourcePort, destinationPort, payload);
                builder = Packets.icmp().type(icmpType, 0).restOfHeader(sourcePort << 16 | destinationPort);
                break;
        }
        builder = builder.from(src).to(dst).payload(payload).trafficClass(0xB8);
        byte[] reference;
        if (v6) {
            // The chain from the transport outwards, as PacketArbitraries builds it: destination options, hop-by-hop first.
            byte[] chain = transport;
            int next = wireProtocol;
            byte[][] headers = new byte[extensions][];
            for (int i = 0; i < extensions; i++) {
                int type = i == extensions - 1 ? IpProtocols.HOP_BY_HOP : IpProtocols.DESTINATION_OPTIONS;
                headers[extensions - 1 - i] = TestPackets.extension(next, extWords * 8);
                chain = TestPackets.concat(headers[extensions - 1 - i], chain);
                next = type;
            }
            reference = TestPackets.ipv6(next, src, dst, chain);
            builder = builder.flowLabel(0x12345);
            for (int i = 0; i < extensions; i++) {
                builder = builder.ipv6ExtensionHeader(i == 0 ? IpProtocols.HOP_BY_HOP : IpProtocols.DESTINATION_OPTIONS,
                        Arrays.copyOfRange(headers[i], 2, headers[i].length));
            }
        } else {
            reference = TestPackets.ipv4(wireProtocol, src, dst, ipv4Options, transport);
            builder = builder.identification(0x1234).dontFragment().ipv4Options(ipv4Options);
        }
        byte[] built = builder.build();
        assertArrayEquals(reference, built, () -> "reference " + hex(reference) + "\nbuilt     " + hex(built));
    }
}
