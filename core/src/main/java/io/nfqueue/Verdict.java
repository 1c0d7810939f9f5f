package io.nfqueue;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What happens to a queued packet: an immutable value, validated when built.
 *
 * <pre>{@code
 * packet.verdict(Verdict.accept().withMark(0x10));         // accept and set skb->mark
 * packet.verdict(Verdict.requeue(2));                      // hand to queue 2
 * packet.verdict(Verdict.accept().withPayload(newBytes));  // replace the packet
 * packet.verdict(Verdict.acceptFlow());                    // accept this packet and its whole flow
 * }</pre>
 *
 * <p>The kernel fixes no checksum or IP length of a replacement payload, and if it cannot
 * apply one the verdict silently becomes DROP; {@code io.nfqueue.packet} builds correct ones.
 */
public final class Verdict {
    /** The largest replacement payload the kernel takes: 0xffff minus the attribute header. */
    public static final int MAX_PAYLOAD = 65531;

    /** The verdict kinds. */
    public enum Kind {
        ACCEPT,
        DROP,
        /** Re-run the hook: pair with a mark and a rule that skips marked packets. */
        REPEAT,
        /** Queue again to {@link #targetQueue()}. */
        REQUEUE
    }

    /** A decision for the packet's whole connection, see {@link FlowOffload}. */
    public enum FlowDecision {
        ACCEPT,
        DROP
    }

    private static final Verdict ACCEPT = new Verdict(Kind.ACCEPT, 0, false, 0, null);
    private static final Verdict DROP = new Verdict(Kind.DROP, 0, false, 0, null);
    private static final Verdict REPEAT = new Verdict(Kind.REPEAT, 0, false, 0, null);
    private static final Verdict ACCEPT_FLOW = new Verdict(Kind.ACCEPT, 0, false, 0, null, FlowDecision.ACCEPT, true,
            false, 0, 0);
    private static final Verdict DROP_FLOW = new Verdict(Kind.DROP, 0, false, 0, null, FlowDecision.DROP, true,
            false, 0, 0);

    private final Kind kind;
    private final int targetQueue;
    private final boolean hasMark;
    private final int mark;
    private final byte[] payload;
    private final FlowDecision flow;
    /** A flow decision not yet turned into the kernel verdict of a queue's {@link FlowOffload}. */
    private final boolean flowPending;
    private final boolean hasConnmark;
    private final int connmark;
    private final int connmarkMask;

    private Verdict(Kind kind, int targetQueue, boolean hasMark, int mark, byte[] payload) {
        this(kind, targetQueue, hasMark, mark, payload, null, false, false, 0, 0);
    }

    private Verdict(Kind kind, int targetQueue, boolean hasMark, int mark, byte[] payload, FlowDecision flow,
            boolean flowPending, boolean hasConnmark, int connmark, int connmarkMask) {
        this.kind = kind;
        this.targetQueue = targetQueue;
        this.hasMark = hasMark;
        this.mark = mark;
        this.payload = payload;
        this.flow = flow;
        this.flowPending = flowPending;
        this.hasConnmark = hasConnmark;
        this.connmark = connmark;
        this.connmarkMask = connmarkMask;
    }

    public static Verdict accept() {
        return ACCEPT;
    }

    public static Verdict drop() {
        return DROP;
    }

    public static Verdict repeat() {
        return REPEAT;
    }

    /**
     * Accept this packet and every later packet of its connection without queueing them: needs a
     * queue with {@link QueueOptions#flowOffload(FlowOffload)} and its rules ({@link FlowRules}).
     * The queue turns it into the kernel verdict its {@link FlowOffload.Mode} needs, with the packet
     * mark's flow bits set to the accept value; {@link #withMark} on it sets the bits outside the
     * flow mask instead of keeping the packet's.
     */
    public static Verdict acceptFlow() {
        return ACCEPT_FLOW;
    }

    /**
     * Drop this packet and every later packet of its connection in the kernel; see {@link #acceptFlow()}.
     * On the first packet of a connection that conntrack has not confirmed yet (a forwarded or
     * received SYN, a new UDP flow's first datagram) the kernel discards the new entry with its
     * mark: with the rules of {@link FlowRules#nft()} the connection is still remembered, for TCP
     * and UDP, by its 5-tuple in a set of the rules; with {@link FlowRules#iptables()} or the
     * kernel's conntrack glue only this packet is dropped and the next one is queued again. A
     * decision on a later packet is remembered either way. See the guide, "Deciding once per flow".
     */
    public static Verdict dropFlow() {
        return DROP_FLOW;
    }

    /** The verdict a queue with {@code offload} sends for this flow decision on a packet marked {@code packetMark}. */
    Verdict forFlows(FlowOffload offload, int packetMark, boolean connmarkByVerdict) {
        int value = flow == FlowDecision.ACCEPT ? offload.acceptValue() : offload.dropValue();
        int newMark = offload.apply(hasMark ? mark : packetMark, value);
        Kind sent;
        if (connmarkByVerdict) {
            // The kernel sets the connection mark from the verdict itself: a plain verdict will do.
            sent = flow == FlowDecision.ACCEPT ? Kind.ACCEPT : Kind.DROP;
        } else if (offload.mode() == FlowOffload.Mode.REPEAT) {
            sent = Kind.REPEAT;
        } else {
            // A dropped packet never reaches the rule that copies its mark: it is accepted with the
            // drop value, and the later chain copies the mark and then drops it.
            sent = Kind.ACCEPT;
        }
        return new Verdict(sent, 0, true, newMark, payload, flow, false, connmarkByVerdict, value, offload.mask());
    }

    /** Whether this is a flow decision ({@link #acceptFlow()}, {@link #dropFlow()}), before or after a queue sent it. */
    public boolean isFlowDecision() {
        return flow != null;
    }

    public Optional<FlowDecision> flowDecision() {
        return Optional.ofNullable(flow);
    }

    /** A flow decision that no queue has turned into a kernel verdict yet. */
    boolean isPendingFlowDecision() {
        return flowPending;
    }

    boolean hasConnmarkUnsafe() {
        return hasConnmark;
    }

    int connmarkUnsafe() {
        return connmark;
    }

    int connmarkMaskUnsafe() {
        return connmarkMask;
    }

    /** Queue the packet again to queue {@code queueNumber} (0..65535). */
    public static Verdict requeue(int queueNumber) {
        QueueOptions.checkQueueNumber(queueNumber);
        return new Verdict(Kind.REQUEUE, queueNumber, false, 0, null);
    }

    /** This verdict, also setting the packet's mark (all 32 bits; negative ints are marks above 2^31). */
    public Verdict withMark(int mark) {
        return new Verdict(kind, targetQueue, true, mark, payload, flow, flowPending, hasConnmark, connmark, connmarkMask);
    }

    /** This verdict, also setting the packet's mark given as an unsigned value 0..0xFFFFFFFF. */
    public Verdict withMark(long unsignedMark) {
        if (unsignedMark < 0 || unsignedMark > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("mark must be an unsigned 32-bit value (0..4294967295): " + unsignedMark);
        }
        return withMark((int) unsignedMark);
    }

    /**
     * This verdict, also replacing the packet with {@code newPacket} (copied; 0..65531 bytes).
     * Only ACCEPT and REQUEUE carry a payload usefully; it is refused for DROP.
     */
    public Verdict withPayload(byte[] newPacket) {
        Objects.requireNonNull(newPacket, "newPacket");
        if (newPacket.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("payload of " + newPacket.length
                    + " bytes exceeds the kernel's limit of " + MAX_PAYLOAD + " bytes");
        }
        if (kind == Kind.DROP) {
            throw new IllegalArgumentException("a DROP verdict cannot carry a payload");
        }
        return new Verdict(kind, targetQueue, hasMark, mark, newPacket.clone(), flow, flowPending, hasConnmark, connmark,
                connmarkMask);
    }

    public Kind kind() {
        return kind;
    }

    /** The queue for {@link Kind#REQUEUE}; 0 otherwise. */
    public int targetQueue() {
        return targetQueue;
    }

    public OptionalInt mark() {
        return hasMark ? OptionalInt.of(mark) : OptionalInt.empty();
    }

    public boolean hasPayload() {
        return payload != null;
    }

    /** A copy of the replacement payload, or null. */
    public byte[] payload() {
        return payload == null ? null : payload.clone();
    }

    /** The replacement payload without a copy, for the verdict writer. */
    byte[] payloadUnsafe() {
        return payload;
    }

    boolean hasMarkUnsafe() {
        return hasMark;
    }

    int markUnsafe() {
        return mark;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Verdict)) {
            return false;
        }
        Verdict v = (Verdict) o;
        return kind == v.kind && targetQueue == v.targetQueue && hasMark == v.hasMark && mark == v.mark
                && Arrays.equals(payload, v.payload) && flow == v.flow && flowPending == v.flowPending
                && hasConnmark == v.hasConnmark && connmark == v.connmark && connmarkMask == v.connmarkMask;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, targetQueue, hasMark, mark, flow, flowPending, connmark) * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        if (flowPending) {
            s.append(flow == FlowDecision.ACCEPT ? "ACCEPT_FLOW" : "DROP_FLOW");
            if (hasMark) {
                s.append(" mark=0x").append(Integer.toHexString(mark)).append(" outside the flow bits");
            }
            if (payload != null) {
                s.append(" payload=").append(payload.length).append('B');
            }
            return s.toString();
        }
        s.append(kind.name());
        if (kind == Kind.REQUEUE) {
            s.append('(').append(targetQueue).append(')');
        }
        if (hasMark) {
            s.append(" mark=0x").append(Integer.toHexString(mark));
        }
        if (payload != null) {
            s.append(" payload=").append(payload.length).append('B');
        }
        if (flow != null) {
            s.append(" (").append(flow == FlowDecision.ACCEPT ? "acceptFlow" : "dropFlow");
            if (hasConnmark) {
                s.append(", connmark=0x").append(Integer.toHexString(connmark)).append("/0x")
                        .append(Integer.toHexString(connmarkMask));
            }
            s.append(')');
        }
        return s.toString();
    }
}
