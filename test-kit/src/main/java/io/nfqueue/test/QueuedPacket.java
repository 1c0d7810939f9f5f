package io.nfqueue.test;

import io.nfqueue.Hook;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A packet as the kernel hands it to a queue: the IP packet (from {@link Packets}, a capture, or
 * any bytes) and the metadata NFQUEUE adds to it, each settable to what a test needs, each
 * surfacing in the {@link Packet} the pipeline sees under the same name. Immutable: every
 * setter returns a copy, so one packet can be the template of many.
 *
 * <pre>{@code
 * QueuedPacket fromBrowser = QueuedPacket.of(Packets.tcp().from("10.0.0.2", 40000).to("10.0.0.1", 443).syn().build())
 *         .hook(Hook.LOCAL_OUT).outDevice(2).uid(1000).gid(1000).mark(0x10);
 * queue.offer(fromBrowser, fromBrowser.mark(0x20));
 * }</pre>
 *
 * <p>Defaults: hook {@code LOCAL_IN}, in-device 1 (loopback's index), mark 0, nothing else set;
 * the whole packet is copied (as with {@link io.nfqueue.CopyMode#PACKET} and a copy range at
 * least its length).
 *
 * <p>A packet known only by its first bytes (a capture cut by its snap length) is made with
 * {@link #of(byte[], int)}: the queue delivers those bytes as a truncated copy of a packet of
 * the original length, as the kernel does with a copy range shorter than the packet.
 */
public final class QueuedPacket {
    private byte[] bytes;
    /** The whole packet's length: more than {@code bytes.length} when only its first bytes are known. */
    private int originalLength;
    private Hook hook = Hook.LOCAL_IN;
    private int mark;
    private Instant timestamp;
    private int inDevice = 1;
    private int outDevice;
    private int physInDevice;
    private int physOutDevice;
    private byte[] hwAddress;
    private Integer uid;
    private Integer gid;
    private String securityContext;
    private Integer conntrackState;
    private byte[] conntrackAttributes;
    private boolean gso;
    private boolean checksumNotReady;
    private int copiedLength = -1;

    private QueuedPacket(byte[] bytes, int originalLength) {
        this.bytes = bytes;
        this.originalLength = originalLength;
    }

    /** The IP packet {@code ipPacket} (from its IPv4 or IPv6 header on), with the default metadata. */
    public static QueuedPacket of(byte[] ipPacket) {
        Objects.requireNonNull(ipPacket, "ipPacket");
        if (ipPacket.length == 0) {
            throw new IllegalArgumentException("an IP packet has at least one byte");
        }
        if (ipPacket.length > QueueOptions.MAX_COPY_RANGE) {
            throw new IllegalArgumentException("an IP packet the kernel queues has at most " + QueueOptions.MAX_COPY_RANGE
                    + " bytes: " + ipPacket.length);
        }
        return new QueuedPacket(ipPacket.clone(), ipPacket.length);
    }

    /**
     * The first bytes of an IP packet {@code originalLength} bytes long, as a capture cut by its
     * snap length holds it: the pipeline sees {@code firstBytes} as the payload,
     * {@link Packet#isTruncated()} true and {@link Packet#originalLength()} the whole length
     * (with {@code originalLength == firstBytes.length}: the whole packet, as {@link #of(byte[])}).
     * The packet cannot be completed: a queue bound with a copy range longer than these bytes
     * still gets only these. The original length may exceed what one copy holds (a 64 KiB IPv4
     * packet, a GSO packet): the kernel copies at most {@link QueueOptions#MAX_COPY_RANGE} bytes.
     */
    public static QueuedPacket of(byte[] firstBytes, int originalLength) {
        QueuedPacket p = of(firstBytes);
        if (originalLength < firstBytes.length) {
            throw new IllegalArgumentException("the original length " + originalLength + " is less than the "
                    + firstBytes.length + " bytes given");
        }
        p.originalLength = originalLength;
        return p;
    }

    private QueuedPacket copy() {
        QueuedPacket c = new QueuedPacket(bytes, originalLength);
        c.hook = hook;
        c.mark = mark;
        c.timestamp = timestamp;
        c.inDevice = inDevice;
        c.outDevice = outDevice;
        c.physInDevice = physInDevice;
        c.physOutDevice = physOutDevice;
        c.hwAddress = hwAddress;
        c.uid = uid;
        c.gid = gid;
        c.securityContext = securityContext;
        c.conntrackState = conntrackState;
        c.conntrackAttributes = conntrackAttributes;
        c.gso = gso;
        c.checksumNotReady = checksumNotReady;
        c.copiedLength = copiedLength;
        return c;
    }

    /** The hook that queued it ({@link Packet#hook()}); not {@code UNKNOWN}. */
    public QueuedPacket hook(Hook value) {
        Objects.requireNonNull(value, "hook");
        if (value == Hook.UNKNOWN) {
            throw new IllegalArgumentException("Hook.UNKNOWN stands for a number the library does not know; "
                    + "pick the hook the packet comes from");
        }
        QueuedPacket c = copy();
        c.hook = value;
        return c;
    }

    /** The packet's mark ({@link Packet#mark()}). */
    public QueuedPacket mark(int value) {
        QueuedPacket c = copy();
        c.mark = value;
        return c;
    }

    /** When the packet arrived ({@link Packet#timestamp()}, microsecond precision); none by default. */
    public QueuedPacket timestamp(Instant value) {
        Objects.requireNonNull(value, "timestamp");
        if (value.getEpochSecond() < 0) {
            throw new IllegalArgumentException("a packet timestamp is after 1970: " + value);
        }
        QueuedPacket c = copy();
        c.timestamp = value;
        return c;
    }

    /** The interface index it came in on ({@link Packet#inDevice()}); 0 for none (as at LOCAL_OUT). */
    public QueuedPacket inDevice(int index) {
        QueuedPacket c = copy();
        c.inDevice = checkIndex(index, "inDevice");
        return c;
    }

    /** The interface index it goes out on ({@link Packet#outDevice()}); 0 for none. */
    public QueuedPacket outDevice(int index) {
        QueuedPacket c = copy();
        c.outDevice = checkIndex(index, "outDevice");
        return c;
    }

    /** The bridge port it came in on ({@link Packet#physInDevice()}); 0 for none. */
    public QueuedPacket physInDevice(int index) {
        QueuedPacket c = copy();
        c.physInDevice = checkIndex(index, "physInDevice");
        return c;
    }

    /** The bridge port it goes out on ({@link Packet#physOutDevice()}); 0 for none. */
    public QueuedPacket physOutDevice(int index) {
        QueuedPacket c = copy();
        c.physOutDevice = checkIndex(index, "physOutDevice");
        return c;
    }

    /** The sender's link-layer address ({@link Packet#hwAddress()}), 1..8 bytes. */
    public QueuedPacket hwAddress(byte[] address) {
        Objects.requireNonNull(address, "hwAddress");
        if (address.length < 1 || address.length > 8) {
            throw new IllegalArgumentException("a hardware address has 1..8 bytes: " + address.length);
        }
        QueuedPacket c = copy();
        c.hwAddress = address.clone();
        return c;
    }

    /**
     * The uid of the local socket that sent or receives it ({@link Packet#uid()}); the kernel
     * reports it only to queues bound with {@code uidGid(true)}, and so does the test queue.
     */
    public QueuedPacket uid(int value) {
        QueuedPacket c = copy();
        c.uid = value;
        return c;
    }

    /** The gid of that socket ({@link Packet#gid()}); see {@link #uid}. */
    public QueuedPacket gid(int value) {
        QueuedPacket c = copy();
        c.gid = value;
        return c;
    }

    /** The security label ({@link Packet#securityContext()}); reported to queues bound with {@code securityContext(true)}. */
    public QueuedPacket securityContext(String label) {
        Objects.requireNonNull(label, "securityContext");
        QueuedPacket c = copy();
        c.securityContext = label;
        return c;
    }

    /**
     * The conntrack state ({@code ip_conntrack_info}: 0 established, 1 related, 2 new, 3
     * established reply, ...) as {@link Packet#conntrackInfo()} reports it to queues bound with
     * {@code conntrack(true)}.
     */
    public QueuedPacket conntrackState(int ipConntrackInfo) {
        if (ipConntrackInfo < 0) {
            throw new IllegalArgumentException("ip_conntrack_info is not negative: " + ipConntrackInfo);
        }
        QueuedPacket c = copy();
        c.conntrackState = ipConntrackInfo;
        return c;
    }

    /** The raw nested {@code CTA_*} netlink attributes of the connection ({@link io.nfqueue.ConntrackInfo#attributes()}). */
    public QueuedPacket conntrackAttributes(byte[] attributes) {
        Objects.requireNonNull(attributes, "conntrackAttributes");
        QueuedPacket c = copy();
        c.conntrackAttributes = attributes.clone();
        return c;
    }

    /** The kernel queued it as one GSO super-packet ({@link Packet#isGso()}). */
    public QueuedPacket gso(boolean value) {
        QueuedPacket c = copy();
        c.gso = value;
        return c;
    }

    /** Its checksum is left to the hardware ({@link Packet#isChecksumNotReady()}). */
    public QueuedPacket checksumNotReady(boolean value) {
        QueuedPacket c = copy();
        c.checksumNotReady = value;
        return c;
    }

    /**
     * Only the first {@code bytes} were copied, as a copy range shorter than the packet does:
     * {@link Packet#isTruncated()} is true and {@link Packet#originalLength()} is the whole length.
     */
    public QueuedPacket truncatedTo(int bytes) {
        if (bytes < 0 || bytes >= this.bytes.length) {
            throw new IllegalArgumentException("a truncated copy keeps 0.." + (this.bytes.length - 1) + " of the "
                    + this.bytes.length + " bytes: " + bytes);
        }
        QueuedPacket c = copy();
        c.copiedLength = bytes;
        return c;
    }

    private static int checkIndex(int index, String what) {
        if (index < 0) {
            throw new IllegalArgumentException(what + " is an interface index, 0 or more: " + index);
        }
        return index;
    }

    /** The IP packet as given: the whole of it, or the first bytes given to {@link #of(byte[], int)}. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /**
     * The whole packet's length ({@link Packet#originalLength()}): more than {@code bytes().length}
     * when only its first bytes are known.
     */
    public int originalLength() {
        return originalLength;
    }

    public Hook hook() {
        return hook;
    }

    public int mark() {
        return mark;
    }

    public OptionalInt uid() {
        return uid == null ? OptionalInt.empty() : OptionalInt.of(uid);
    }

    public OptionalInt gid() {
        return gid == null ? OptionalInt.empty() : OptionalInt.of(gid);
    }

    /** The bytes the queue gets: the whole packet, or the first {@link #truncatedTo} of them. */
    byte[] copiedBytes() {
        return copiedLength < 0 ? bytes : Arrays.copyOf(bytes, copiedLength);
    }

    // Read by the test queue when it hands the packet to the fake kernel.
    Instant timestamp() {
        return timestamp;
    }

    int inDevice() {
        return inDevice;
    }

    int outDevice() {
        return outDevice;
    }

    int physInDevice() {
        return physInDevice;
    }

    int physOutDevice() {
        return physOutDevice;
    }

    byte[] hwAddress() {
        return hwAddress;
    }

    byte[] securityContextBytes() {
        return securityContext == null ? null : securityContext.getBytes(StandardCharsets.UTF_8);
    }

    Integer conntrackState() {
        return conntrackState;
    }

    byte[] conntrackAttributesBytes() {
        return conntrackAttributes;
    }

    boolean isGso() {
        return gso;
    }

    boolean isChecksumNotReady() {
        return checksumNotReady;
    }

    boolean isTruncated() {
        return copiedLength >= 0 || originalLength > bytes.length;
    }
}
