package io.nfqueue.test;

import io.nfqueue.packet.IpProtocols;
import io.nfqueue.packet.TcpView;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a TCP segment over IPv4 or IPv6 (RFC 9293): flags, sequence and acknowledgment
 * numbers, window, urgent pointer, options; the data offset, the padding and the checksum
 * (over the pseudo-header) computed. Get one from {@link Packets#tcp()}.
 *
 * <pre>{@code
 * TcpPacketBuilder client = Packets.tcp().from("10.0.0.1", 40000).to("10.0.0.2", 443);
 * byte[] syn = client.syn().seq(1000).mss(1460).sackPermitted().windowScale(7).build();
 * byte[] data = client.ack(5001).psh().seq(1001).payload("GET / HTTP/1.1\r\n\r\n").build();
 * byte[] reset = client.rst().seq(1001).build();
 * }</pre>
 *
 * <p>Defaults: no flags, sequence and acknowledgment numbers 0, window 65535, urgent pointer
 * 0, no options. Options are written in the order given, then END bytes up to a multiple of 4;
 * at most 40 bytes of them. Flag setters add to the flags already set; {@link #flags(int)}
 * replaces them.
 */
public final class TcpPacketBuilder extends PortPacketBuilder<TcpPacketBuilder> {
    private long seq;
    private long ackNumber;
    private int flags;
    private int window = 0xFFFF;
    private int urgentPointer;
    private List<TcpOption> options = List.of();
    private int brokenDataOffset = IpLayer.UNSET;

    TcpPacketBuilder() {
    }

    private TcpPacketBuilder(TcpPacketBuilder from) {
        super(from);
        this.seq = from.seq;
        this.ackNumber = from.ackNumber;
        this.flags = from.flags;
        this.window = from.window;
        this.urgentPointer = from.urgentPointer;
        this.options = from.options;
        this.brokenDataOffset = from.brokenDataOffset;
    }

    /** The sequence number, 0..2^32-1. */
    public TcpPacketBuilder seq(long seq) {
        long v = checkU32("sequence number", seq);
        return with(b -> b.seq = v);
    }

    /** The acknowledgment number (0..2^32-1), and the ACK flag. */
    public TcpPacketBuilder ack(long ackNumber) {
        return ackNumber(ackNumber).ack();
    }

    /** The acknowledgment number (0..2^32-1) alone: without the ACK flag it is ignored by receivers. */
    public TcpPacketBuilder ackNumber(long ackNumber) {
        long v = checkU32("acknowledgment number", ackNumber);
        return with(b -> b.ackNumber = v);
    }

    /**
     * Replaces the flags: the bits of {@link TcpView#FIN} ... {@link TcpView#CWR} and
     * {@link TcpView#AE}, 0..0x1FF.
     */
    public TcpPacketBuilder flags(int flags) {
        int v = checkRange("TCP flags", flags, 0, 0x1FF);
        return with(b -> b.flags = v);
    }

    private TcpPacketBuilder flag(int bit) {
        return with(b -> b.flags |= bit);
    }

    public TcpPacketBuilder fin() {
        return flag(TcpView.FIN);
    }

    public TcpPacketBuilder syn() {
        return flag(TcpView.SYN);
    }

    public TcpPacketBuilder rst() {
        return flag(TcpView.RST);
    }

    public TcpPacketBuilder psh() {
        return flag(TcpView.PSH);
    }

    /** The ACK flag (the number stays as set: see {@link #ack(long)}). */
    public TcpPacketBuilder ack() {
        return flag(TcpView.ACK);
    }

    /** The URG flag (the pointer stays as set: see {@link #urgentPointer(int)}). */
    public TcpPacketBuilder urg() {
        return flag(TcpView.URG);
    }

    public TcpPacketBuilder ece() {
        return flag(TcpView.ECE);
    }

    public TcpPacketBuilder cwr() {
        return flag(TcpView.CWR);
    }

    /** The window, 0..65535 (unscaled, as on the wire). */
    public TcpPacketBuilder window(int window) {
        int v = checkRange("window", window, 0, 0xFFFF);
        return with(b -> b.window = v);
    }

    /** The urgent pointer, 0..65535. */
    public TcpPacketBuilder urgentPointer(int urgentPointer) {
        int v = checkRange("urgent pointer", urgentPointer, 0, 0xFFFF);
        return with(b -> b.urgentPointer = v);
    }

    /** Adds an option after the ones set before. */
    public TcpPacketBuilder option(TcpOption option) {
        Objects.requireNonNull(option, "option");
        return with(b -> {
            List<TcpOption> more = new ArrayList<>(b.options);
            more.add(option);
            b.options = List.copyOf(more);
        });
    }

    /** Adds {@link TcpOption#mss(int)}. */
    public TcpPacketBuilder mss(int mss) {
        return option(TcpOption.mss(mss));
    }

    /** Adds {@link TcpOption#windowScale(int)}. */
    public TcpPacketBuilder windowScale(int shift) {
        return option(TcpOption.windowScale(shift));
    }

    /** Adds {@link TcpOption#sackPermitted()}. */
    public TcpPacketBuilder sackPermitted() {
        return option(TcpOption.sackPermitted());
    }

    /** Adds {@link TcpOption#timestamps(long, long)}. */
    public TcpPacketBuilder timestamps(long value, long echoReply) {
        return option(TcpOption.timestamps(value, echoReply));
    }

    /** Adds {@link TcpOption#nop()}, to align the next option as senders do. */
    public TcpPacketBuilder nop() {
        return option(TcpOption.nop());
    }

    /**
     * <b>Broken on purpose:</b> writes {@code words} (0..15) as the data offset instead of the
     * header's length in 32-bit words. Below 5, or past the bytes present, is malformed; other
     * values move where the parser sees the data begin.
     */
    public TcpPacketBuilder brokenDataOffset(int words) {
        int v = checkRange("data offset", words, 0, 15);
        return with(b -> b.brokenDataOffset = v);
    }

    @Override
    TcpPacketBuilder copy() {
        return new TcpPacketBuilder(this);
    }

    @Override
    int protocol(int version) {
        return IpProtocols.TCP;
    }

    @Override
    byte[] transport(int version) {
        int optionLength = 0;
        for (TcpOption o : options) {
            optionLength += o.length();
        }
        int headerLength = 20 + ((optionLength + 3) & ~3);
        if (headerLength > 60) {
            throw new IllegalArgumentException("TCP options take " + optionLength + " bytes; a header has room for 40");
        }
        ByteBuffer b = ByteBuffer.allocate(headerLength + payload.length);
        b.putShort((short) sourcePort).putShort((short) destinationPort).putInt((int) seq).putInt((int) ackNumber);
        // Data offset in the high nibble; the AE (former NS) flag is the low bit of the same byte.
        b.put((byte) (headerLength / 4 << 4 | flags >>> 8)).put((byte) flags);
        b.putShort((short) window).putShort((short) 0).putShort((short) urgentPointer);
        for (TcpOption o : options) {
            o.writeTo(b);
        }
        b.position(headerLength);   // the padding: END bytes, zero
        b.put(payload);
        return b.array();
    }

    @Override
    int checksumField() {
        return 16;
    }

    @Override
    void breakTransport(byte[] transport) {
        if (brokenDataOffset != IpLayer.UNSET) {
            transport[12] = (byte) (brokenDataOffset << 4 | (transport[12] & 0x0F));
        }
    }
}
