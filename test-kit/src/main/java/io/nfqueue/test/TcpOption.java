package io.nfqueue.test;

import io.nfqueue.packet.TcpView;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A TCP option as bytes (RFC 9293 3.2): for {@link TcpPacketBuilder#option(TcpOption)}, which
 * writes options in the order given. The common ones have their own builder methods too.
 *
 * <pre>{@code
 * Packets.tcp().syn()
 *         .option(TcpOption.mss(1460))
 *         .option(TcpOption.sackPermitted())
 *         .option(TcpOption.timestamps(4242, 0))
 *         .option(TcpOption.nop())
 *         .option(TcpOption.windowScale(7))     // Linux's SYN layout, 20 bytes of options
 *         .build();
 * }</pre>
 */
public final class TcpOption {
    private final byte[] bytes;

    private TcpOption(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Maximum segment size (kind 2), 0..65535. */
    public static TcpOption mss(int mss) {
        int v = IpPacketBuilder.checkRange("MSS", mss, 0, 0xFFFF);
        return of(TcpView.OPTION_MSS, ByteBuffer.allocate(2).putShort((short) v).array());
    }

    /** Window scale (kind 3): the shift count, 0..255 (RFC 7323 allows up to 14; larger ones test the clamp). */
    public static TcpOption windowScale(int shift) {
        int v = IpPacketBuilder.checkRange("window scale", shift, 0, 255);
        return of(TcpView.OPTION_WINDOW_SCALE, new byte[] {(byte) v});
    }

    /** SACK permitted (kind 4). */
    public static TcpOption sackPermitted() {
        return of(TcpView.OPTION_SACK_PERMITTED, new byte[0]);
    }

    /** Selective acknowledgment (kind 5): 1 to 4 blocks as left, right edge pairs (unsigned 32-bit). */
    public static TcpOption sack(long... edges) {
        if (edges.length == 0 || edges.length % 2 != 0 || edges.length > 8) {
            throw new IllegalArgumentException("SACK takes 1 to 4 blocks, as left and right edges: " + edges.length
                    + " edges");
        }
        ByteBuffer b = ByteBuffer.allocate(edges.length * 4);
        for (long edge : edges) {
            b.putInt((int) IpPacketBuilder.checkU32("SACK edge", edge));
        }
        return of(TcpView.OPTION_SACK, b.array());
    }

    /** Timestamps (kind 8): TSval and TSecr, unsigned 32-bit. */
    public static TcpOption timestamps(long value, long echoReply) {
        byte[] data = ByteBuffer.allocate(8).putInt((int) IpPacketBuilder.checkU32("TSval", value))
                .putInt((int) IpPacketBuilder.checkU32("TSecr", echoReply)).array();
        return of(TcpView.OPTION_TIMESTAMPS, data);
    }

    /** No-operation (kind 1): one byte, to align the next option. */
    public static TcpOption nop() {
        return new TcpOption(new byte[] {TcpView.OPTION_NOP});
    }

    /** End of option list (kind 0): one byte; the builder pads with these anyway. */
    public static TcpOption end() {
        return new TcpOption(new byte[] {TcpView.OPTION_END});
    }

    /** Any option: {@code kind}, a length byte of 2 + data, the data. */
    public static TcpOption of(int kind, byte[] data) {
        IpPacketBuilder.checkRange("option kind", kind, 0, 255);
        Objects.requireNonNull(data, "data");
        if (data.length > 38) {
            throw new IllegalArgumentException("an option has at most 38 bytes of data (40 in all): " + data.length);
        }
        byte[] b = new byte[2 + data.length];
        b[0] = (byte) kind;
        b[1] = (byte) b.length;
        System.arraycopy(data, 0, b, 2, data.length);
        return new TcpOption(b);
    }

    /** Bytes written as they are, wrong lengths included: for tests of an option walk. */
    public static TcpOption raw(byte[] bytes) {
        return new TcpOption(Objects.requireNonNull(bytes, "bytes").clone());
    }

    /** The option's bytes (a copy). */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** How many bytes it takes. */
    public int length() {
        return bytes.length;
    }

    void writeTo(ByteBuffer out) {
        out.put(bytes);
    }

    @Override
    public String toString() {
        return "TcpOption[" + HexFormat.of().formatHex(bytes) + "]";
    }
}
