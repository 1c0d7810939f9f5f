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

    private static final int UNRESOLVED = 0;
    private static final int RESOLVED = 1;

    private final BoundQueue owner;
    private final int id;
    private final int queueNumber;
    private final int hwProtocol;
    private final Hook hook;
    private final int mark;
    private final Instant timestamp;
    private final int inDevice;
    private final int outDevice;
    private final int physInDevice;
    private final int physOutDevice;
    private final byte[] hwAddress;
    private final OptionalInt uid;
    private final OptionalInt gid;
    private final String securityContext;
    private final ConntrackInfo conntrack;
    private final byte[] payload;
    private final int originalLength;
    private final boolean truncated;
    private final boolean gso;
    private final boolean checksumNotReady;
    private final long receivedNanos;

    private volatile int state;
    /** Set once, by the thread that won the state change, before the packet is queued to send. */
    private Verdict verdict;
    private DefaultVerdictCause defaultCause;
    /** Its verdict went into a send: touched only by the thread holding the queue's send lock. */
    boolean sent;
    /** Failed sends of its verdict so far; same thread rule as {@link #sent}. */
    int sendAttempts;

    Packet(BoundQueue owner, int id, int queueNumber, int hwProtocol, Hook hook, int mark, Instant timestamp,
           int inDevice, int outDevice, int physInDevice, int physOutDevice, byte[] hwAddress, OptionalInt uid,
           OptionalInt gid, String securityContext, ConntrackInfo conntrack, byte[] payload, int originalLength,
           boolean truncated, boolean gso, boolean checksumNotReady, long receivedNanos) {
        this.owner = owner;
        this.id = id;
        this.queueNumber = queueNumber;
        this.hwProtocol = hwProtocol;
        this.hook = hook;
        this.mark = mark;
        this.timestamp = timestamp;
        this.inDevice = inDevice;
        this.outDevice = outDevice;
        this.physInDevice = physInDevice;
        this.physOutDevice = physOutDevice;
        this.hwAddress = hwAddress;
        this.uid = uid;
        this.gid = gid;
        this.securityContext = securityContext;
        this.conntrack = conntrack;
        this.payload = payload;
        this.originalLength = originalLength;
        this.truncated = truncated;
        this.gso = gso;
        this.checksumNotReady = checksumNotReady;
        this.receivedNanos = receivedNanos;
    }

    /** The kernel's packet id, unique among this binding's unresolved packets. */
    public int id() {
        return id;
    }

    public int queueNumber() {
        return queueNumber;
    }

    /** The link-layer protocol (ethertype): 0x0800 IPv4, 0x86DD IPv6. */
    public int hwProtocol() {
        return hwProtocol;
    }

    public Hook hook() {
        return hook;
    }

    /** The packet's mark (skb->mark), 0 when unset. */
    public int mark() {
        return mark;
    }

    /** When the packet was received, if the kernel stamped it (incoming packets, usually). */
    public Optional<Instant> timestamp() {
        return Optional.ofNullable(timestamp);
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
        return physInDevice;
    }

    /** Bridge port the packet goes out on, 0 when none. */
    public int physOutDevice() {
        return physOutDevice;
    }

    /** The source link-layer address of a received packet (absent for locally generated ones). */
    public Optional<byte[]> hwAddress() {
        return hwAddress == null ? Optional.empty() : Optional.of(hwAddress.clone());
    }

    /** The uid of the local socket the packet belongs to (option {@code uidGid}), as seen from the initial user namespace. */
    public OptionalInt uid() {
        return uid;
    }

    public OptionalInt gid() {
        return gid;
    }

    /** The security context (option {@code securityContext}), when the kernel has one. */
    public Optional<String> securityContext() {
        return Optional.ofNullable(securityContext);
    }

    /** Conntrack information (option {@code conntrack}), when the packet has a connection. */
    public Optional<ConntrackInfo> conntrackInfo() {
        return Optional.ofNullable(conntrack);
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
            throw new IllegalStateException("packet " + id + " has no payload: queue " + queueNumber
                    + " copies metadata only (CopyMode.META); bind with CopyMode.PACKET to read packet bytes");
        }
        return payload;
    }

    /** Bytes of the packet that were copied (0 without a payload). */
    public int payloadLength() {
        return payload == null ? 0 : payload.length;
    }

    /** The packet's full length; more than {@link #payloadLength()} when the copy was cut short. */
    public int originalLength() {
        return originalLength;
    }

    /** The copy range cut this packet short: a payload built from it would truncate the real packet. */
    public boolean isTruncated() {
        return truncated;
    }

    /** A GSO packet: may exceed the MTU; its checksums may not be computed yet. */
    public boolean isGso() {
        return gso;
    }

    /** The kernel flagged the checksum as not yet computed (offloaded): do not validate it. */
    public boolean isChecksumNotReady() {
        return checksumNotReady;
    }

    /** System.nanoTime() when the library received the packet. */
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

    public void requeue(int queueNumber) {
        verdict(Verdict.requeue(queueNumber));
    }

    /**
     * Gives the packet its verdict; returns at once, the verdict is sent in the next batch.
     *
     * @throws IllegalStateException if the packet already has a verdict
     */
    public void verdict(Verdict verdict) {
        if (verdict == null) {
            throw new NullPointerException("verdict");
        }
        if (!owner.resolve(this, verdict, null)) {
            throw new IllegalStateException("packet " + id + " of queue " + queueNumber + " already has a verdict ("
                    + describeResolution() + ")");
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
        return state != UNRESOLVED;
    }

    /** Claims the packet for one verdict: true for exactly one caller. */
    boolean claim(Verdict v, DefaultVerdictCause cause) {
        if (!STATE.compareAndSet(this, UNRESOLVED, RESOLVED)) {
            return false;
        }
        this.verdict = v;
        this.defaultCause = cause;
        return true;
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
        DefaultVerdictCause cause = defaultCause;
        Verdict v = verdict;
        if (cause != null) {
            return "default verdict " + v + " because of " + cause;
        }
        return v == null ? "being resolved" : String.valueOf(v);
    }

    /** One line: id, queue, hook, protocol, addresses and ports, length. */
    @Override
    public String toString() {
        return PacketSummary.describe(id, queueNumber, hook.name(), hwProtocol, payload, originalLength);
    }
}
