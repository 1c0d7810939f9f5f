package io.nfqueue;

import io.nfqueue.internal.PacketSummary;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One queued packet: its metadata, its bytes, and the handle to give it exactly one verdict.
 *
 * <p>Verdicts may be given from any thread, in any order, after the handler has returned. The
 * first one wins; a second throws {@link IllegalStateException} and sends nothing, and so does a
 * verdict on a packet that already got the default verdict (queue closed, handler threw,
 * verdict timeout). The payload is a private copy and stays readable from any thread.
 */
public final class Packet {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Packet.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // state: the resolution in the low byte (set once, by the claim), and the send bookkeeping
    // above it, written only by the verdict sender under its lock once the packet is resolved.
    private static final int UNRESOLVED = 0;
    /** Resolved by the program; {@code DEFAULT_BASE + cause.ordinal()} when resolved by default. */
    private static final int RESOLVED = 1;
    private static final int DEFAULT_BASE = 2;
    private static final int RESOLUTION_MASK = 0xff;
    private static final int SENT = 1 << 8;
    private static final int ATTEMPT_SHIFT = 9;
    private static final int ATTEMPT_MASK = 0x3;
    private static final DefaultVerdictCause[] CAUSES = DefaultVerdictCause.values();
    private static final Hook[] HOOKS = Hook.values();

    // bits: the small metadata fields, packed; final.
    private static final int HW_PROTOCOL_MASK = 0xffff;
    private static final int HOOK_SHIFT = 16;
    private static final int HOOK_MASK = 0x7;
    private static final int TRUNCATED = 1 << 19;
    private static final int GSO = 1 << 20;
    private static final int CSUM_NOT_READY = 1 << 21;

    // The layout is kept to 64 bytes (12-byte header, one long, six ints, five references with
    // compressed oops): the packet is the only per-packet object on the receive-to-verdict path
    // besides the payload copy. Rare metadata lives in PacketExtras.
    private final long receivedNanos;
    private final int id;
    private final int mark;
    private final int inDevice;
    private final int outDevice;
    private volatile int state;
    private final int bits;
    private final BoundQueue owner;
    private final byte[] payload;
    private final PacketExtras extras;
    /** Set once, by the thread that won the state change, before the packet is queued to send. */
    private Verdict verdict;
    /** Link in the owner's stack of verdicts waiting to be sent. */
    Packet nextPending;

    Packet(BoundQueue owner, int id, int hwProtocol, Hook hook, int mark, int inDevice, int outDevice,
           byte[] payload, PacketExtras extras, boolean truncated, boolean gso, boolean checksumNotReady,
           long receivedNanos) {
        this.owner = owner;
        this.id = id;
        this.mark = mark;
        this.inDevice = inDevice;
        this.outDevice = outDevice;
        this.payload = payload;
        this.extras = extras;
        this.receivedNanos = receivedNanos;
        this.bits = (hwProtocol & HW_PROTOCOL_MASK) | (hook.ordinal() << HOOK_SHIFT) | (truncated ? TRUNCATED : 0)
                | (gso ? GSO : 0) | (checksumNotReady ? CSUM_NOT_READY : 0);
    }

    /** The kernel's packet id, unique among this binding's unresolved packets. */
    public int id() {
        return id;
    }

    public int queueNumber() {
        return owner.queueNumber();
    }

    /** The link-layer protocol (ethertype): 0x0800 IPv4, 0x86DD IPv6. */
    public int hwProtocol() {
        return bits & HW_PROTOCOL_MASK;
    }

    public Hook hook() {
        return HOOKS[(bits >>> HOOK_SHIFT) & HOOK_MASK];
    }

    /** The packet's mark (skb->mark), 0 when unset. */
    public int mark() {
        return mark;
    }

    /**
     * When the packet was received, if the kernel stamped it: packets that came in from a device
     * (PRE_ROUTING, LOCAL_IN, FORWARD), and only while some socket on the host asked for receive
     * timestamps (the kernel stamps lazily); never locally generated ones (LOCAL_OUT).
     */
    public Optional<Instant> timestamp() {
        return Optional.ofNullable(extras == null ? null : extras.timestamp);
    }

    /** Interface index the packet came in on, 0 when none (locally generated). */
    public int inDevice() {
        return inDevice;
    }

    /** Interface index the packet goes out on, 0 when none (not yet routed, or local delivery). */
    public int outDevice() {
        return outDevice;
    }

    /** Bridge port the packet came in on, 0 when none. */
    public int physInDevice() {
        return extras == null ? 0 : extras.physInDevice;
    }

    /** Bridge port the packet goes out on, 0 when none. */
    public int physOutDevice() {
        return extras == null ? 0 : extras.physOutDevice;
    }

    /** The source link-layer address of a received packet (absent for locally generated ones). */
    public Optional<byte[]> hwAddress() {
        return extras == null || extras.hwAddress == null ? Optional.empty() : Optional.of(extras.hwAddress.clone());
    }

    /** The uid of the local socket the packet belongs to (option {@code uidGid}), as seen from the initial user namespace. */
    public OptionalInt uid() {
        return extras != null && extras.hasUid ? OptionalInt.of(extras.uid) : OptionalInt.empty();
    }

    public OptionalInt gid() {
        return extras != null && extras.hasGid ? OptionalInt.of(extras.gid) : OptionalInt.empty();
    }

    /** The security context (option {@code securityContext}), when the kernel has one. */
    public Optional<String> securityContext() {
        return Optional.ofNullable(extras == null ? null : extras.securityContext);
    }

    /** Conntrack information (option {@code conntrack}), when the packet has a connection. */
    public Optional<ConntrackInfo> conntrackInfo() {
        return Optional.ofNullable(extras == null ? null : extras.conntrack);
    }

    /**
     * The packet from its network header on, read-only, without a copy.
     *
     * @throws IllegalStateException when the queue copies metadata only ({@link CopyMode#META})
     */
    public ByteBuffer payload() {
        return ByteBuffer.wrap(requirePayload()).asReadOnlyBuffer();
    }

    /** A copy of the payload; throws like {@link #payload()}. */
    public byte[] payloadBytes() {
        return requirePayload().clone();
    }

    private byte[] requirePayload() {
        if (payload == null) {
            throw new IllegalStateException("packet " + id + " has no payload: queue " + queueNumber()
                    + " copies metadata only (CopyMode.META); bind with CopyMode.PACKET to read packet bytes");
        }
        return payload;
    }

    /** Bytes of the packet that were copied (0 without a payload). */
    public int payloadLength() {
        return payload == null ? 0 : payload.length;
    }

    /**
     * The packet's full length: more than {@link #payloadLength()} when the copy was cut short.
     * With {@link CopyMode#META} the kernel sends no length at all, and this is 0.
     */
    public int originalLength() {
        return extras != null && extras.hasOriginalLength ? extras.originalLength : payloadLength();
    }

    /** The copy range cut this packet short: a payload built from it would truncate the real packet. */
    public boolean isTruncated() {
        return (bits & TRUNCATED) != 0;
    }

    /** A GSO packet: may exceed the MTU; its checksums may not be computed yet. */
    public boolean isGso() {
        return (bits & GSO) != 0;
    }

    /** The kernel flagged the checksum as not yet computed (offloaded): do not validate it. */
    public boolean isChecksumNotReady() {
        return (bits & CSUM_NOT_READY) != 0;
    }

    /** When the library received the packet: {@link System#nanoTime()}, or the queue's {@link QueueOptions#ticker}. */
    public long receivedNanos() {
        return receivedNanos;
    }

    public void accept() {
        verdict(Verdict.accept());
    }

    public void drop() {
        verdict(Verdict.drop());
    }

    public void repeat() {
        verdict(Verdict.repeat());
    }

    /** Accepts this packet and the rest of its connection in the kernel: {@link Verdict#acceptFlow()}. */
    public void acceptFlow() {
        verdict(Verdict.acceptFlow());
    }

    /** Drops this packet and the rest of its connection in the kernel: {@link Verdict#dropFlow()}. */
    public void dropFlow() {
        verdict(Verdict.dropFlow());
    }

    public void requeue(int queueNumber) {
        verdict(Verdict.requeue(queueNumber));
    }

    /**
     * Gives the packet its verdict; returns at once, the verdict is sent in the next batch.
     *
     * @throws VerdictAlreadyGivenException (an {@link IllegalStateException}) if the packet
     *         already has a verdict
     * @throws IllegalStateException for a flow decision on a queue without
     *         {@link QueueOptions#flowOffload(FlowOffload)} (the packet stays unresolved)
     */
    public void verdict(Verdict verdict) {
        if (verdict == null) {
            throw new NullPointerException("verdict");
        }
        if (!owner.resolve(this, verdict, null)) {
            int s = state;
            throw new VerdictAlreadyGivenException("packet " + id + " of queue " + queueNumber()
                    + " already has a verdict (" + describeResolution() + ")", defaultCause(s));
        }
    }

    /**
     * Gives the packet its queue's default verdict, counted under {@code cause}, unless it
     * already has a verdict. For code that ends a packet's life without deciding it, such as a
     * discard hook: {@code flux.doOnDiscard(Packet.class, p -> p.defaultVerdict(DefaultVerdictCause.DISCARD))}.
     *
     * @return true if this call resolved the packet
     */
    public boolean defaultVerdict(DefaultVerdictCause cause) {
        return owner.resolveWithDefault(this, cause);
    }

    /** True once a verdict was given, by the program or by default. */
    public boolean isResolved() {
        return (state & RESOLUTION_MASK) != UNRESOLVED;
    }

    private static DefaultVerdictCause defaultCause(int state) {
        int r = state & RESOLUTION_MASK;
        return r >= DEFAULT_BASE ? CAUSES[r - DEFAULT_BASE] : null;
    }

    /** Claims the packet for one verdict: true for exactly one caller. */
    boolean claim(Verdict v, DefaultVerdictCause cause) {
        if (!STATE.compareAndSet(this, UNRESOLVED, cause == null ? RESOLVED : DEFAULT_BASE + cause.ordinal())) {
            return false;
        }
        this.verdict = v;
        return true;
    }

    /** Its verdict went into a send. Only the thread holding the owner's send lock calls these. */
    boolean sent() {
        return (state & SENT) != 0;
    }

    /**
     * Marks the verdict as in a send (or back out of one whose send failed). Only the verdict
     * sender, under its lock, writes these bits, and only once the packet is resolved, when the
     * claim no longer touches the state: a release store, no fence per packet.
     */
    void sent(boolean value) {
        int s = state;
        STATE.setRelease(this, value ? s | SENT : s & ~SENT);
    }

    /** Counts a failed send of its verdict; returns the failures so far (saturating at 3). As {@link #sent}. */
    int failedSend() {
        int s = state;
        int attempts = Math.min(ATTEMPT_MASK, ((s >>> ATTEMPT_SHIFT) & ATTEMPT_MASK) + 1);
        STATE.setRelease(this, (s & ~(ATTEMPT_MASK << ATTEMPT_SHIFT)) | (attempts << ATTEMPT_SHIFT));
        return attempts;
    }

    Verdict resolvedVerdict() {
        return verdict;
    }

    BoundQueue owner() {
        return owner;
    }

    byte[] payloadUnsafe() {
        return payload;
    }

    private String describeResolution() {
        DefaultVerdictCause cause = defaultCause(state);
        Verdict v = verdict;
        if (cause != null) {
            return "default verdict " + v + " because of " + cause;
        }
        return v == null ? "being resolved" : String.valueOf(v);
    }

    /** One line: id, queue, hook, protocol, addresses and ports, length. */
    @Override
    public String toString() {
        return PacketSummary.describe(id, queueNumber(), hook().name(), hwProtocol(), payload, originalLength());
    }
}
