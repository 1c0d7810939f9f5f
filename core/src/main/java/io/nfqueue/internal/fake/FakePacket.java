package io.nfqueue.internal.fake;

/**
 * One packet as the fake kernel queues it for {@link FakeTransport}: the values the native
 * shim would read from the netlink message. Mutable builder, copied when offered.
 *
 * <p>Which optional attributes the kernel "sent" follows from what was set: a mark only after
 * {@link #mark(int)}, a uid only after {@link #uid(int)}, and so on, exactly as the shim sets
 * its {@code NFQ_JNI_HAS_*} bits. Hook numbers and skb-info bits are the kernel's, so take them
 * from {@link io.nfqueue.internal.NativeConstants} rather than typing them.
 */
public final class FakePacket {
    final int id;
    final int queue;
    int hwProtocol = 0x0800;
    int hook;
    Integer mark;
    Long tsSec;
    long tsUsec;
    Integer inDevice;
    Integer outDevice;
    Integer physInDevice;
    Integer physOutDevice;
    byte[] hwAddress;
    Integer uid;
    Integer gid;
    byte[] securityContext;
    byte[] conntrack;
    Integer conntrackInfo;
    Integer capturedLength;
    Integer skbInfo;
    byte[] payload;

    private FakePacket(int id, int queue) {
        this.id = id;
        this.queue = queue;
    }

    /** A packet with only the header attribute (id, queue, IPv4 hw protocol, hook 0). */
    public static FakePacket of(int id, int queue) {
        return new FakePacket(id, queue);
    }

    public FakePacket hwProtocol(int ethertype) {
        this.hwProtocol = ethertype;
        return this;
    }

    /** The NF_INET_* hook number (use NativeConstants.hookLocalOut and friends). */
    public FakePacket hook(int hookNumber) {
        this.hook = hookNumber;
        return this;
    }

    public FakePacket mark(int value) {
        this.mark = value;
        return this;
    }

    public FakePacket timestamp(long seconds, long micros) {
        this.tsSec = seconds;
        this.tsUsec = micros;
        return this;
    }

    /** Interface indexes; 0 leaves that attribute out, as the kernel does for "no device". */
    public FakePacket devices(int in, int out, int physIn, int physOut) {
        this.inDevice = in == 0 ? null : in;
        this.outDevice = out == 0 ? null : out;
        this.physInDevice = physIn == 0 ? null : physIn;
        this.physOutDevice = physOut == 0 ? null : physOut;
        return this;
    }

    /** Source link-layer address; the shim keeps at most 8 bytes. */
    public FakePacket hwAddress(byte[] address) {
        this.hwAddress = address.clone();
        return this;
    }

    public FakePacket uid(int value) {
        this.uid = value;
        return this;
    }

    public FakePacket gid(int value) {
        this.gid = value;
        return this;
    }

    /** The raw label bytes as the kernel sends them (usually with a terminating NUL). */
    public FakePacket securityContext(byte[] label) {
        this.securityContext = label.clone();
        return this;
    }

    /** Raw nested CTA_* attributes (NFQA_CT); null leaves them out. */
    public FakePacket conntrack(byte[] attributes) {
        this.conntrack = attributes == null ? null : attributes.clone();
        return this;
    }

    /** The ip_conntrack_info state (NFQA_CT_INFO). */
    public FakePacket conntrackInfo(int state) {
        this.conntrackInfo = state;
        return this;
    }

    /**
     * The packet was cut short by the copy range: NFQA_CAP_LEN carries its full length. Without
     * it the original length is the payload length, as in the shim.
     */
    public FakePacket capturedLength(int originalLength) {
        this.capturedLength = originalLength;
        return this;
    }

    /** NFQA_SKB_INFO bits (NativeConstants.skbGso, skbCsumNotReady, ...). */
    public FakePacket skbInfo(int bits) {
        this.skbInfo = bits;
        return this;
    }

    /** The packet bytes from the network header on; null for a metadata-only copy. */
    public FakePacket payload(byte[] bytes) {
        this.payload = bytes == null ? null : bytes.clone();
        return this;
    }

    public int id() {
        return id;
    }

    public int queue() {
        return queue;
    }

    FakePacket copy() {
        FakePacket c = new FakePacket(id, queue);
        c.hwProtocol = hwProtocol;
        c.hook = hook;
        c.mark = mark;
        c.tsSec = tsSec;
        c.tsUsec = tsUsec;
        c.inDevice = inDevice;
        c.outDevice = outDevice;
        c.physInDevice = physInDevice;
        c.physOutDevice = physOutDevice;
        c.hwAddress = hwAddress == null ? null : hwAddress.clone();
        c.uid = uid;
        c.gid = gid;
        c.securityContext = securityContext == null ? null : securityContext.clone();
        c.conntrack = conntrack == null ? null : conntrack.clone();
        c.conntrackInfo = conntrackInfo;
        c.capturedLength = capturedLength;
        c.skbInfo = skbInfo;
        c.payload = payload == null ? null : payload.clone();
        return c;
    }

    /** Bytes this packet needs in a receive slot besides the headers: payload, label, conntrack. */
    int variableLength() {
        return len(payload) + len(securityContext) + len(conntrack);
    }

    private static int len(byte[] b) {
        return b == null ? 0 : b.length;
    }

    @Override
    public String toString() {
        return "FakePacket{id=" + Integer.toUnsignedString(id) + ", queue=" + queue + ", payload="
                + (payload == null ? "none" : payload.length + "B") + '}';
    }
}
