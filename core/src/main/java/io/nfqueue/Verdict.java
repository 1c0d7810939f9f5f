package io.nfqueue;

import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * What happens to a queued packet: an immutable value, validated when built.
 *
 * <pre>{@code
 * packet.verdict(Verdict.accept().withMark(0x10));         // accept and set skb->mark
 * packet.verdict(Verdict.requeue(2));                      // hand to queue 2
 * packet.verdict(Verdict.accept().withPayload(newBytes));  // replace the packet
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

    private static final Verdict ACCEPT = new Verdict(Kind.ACCEPT, 0, false, 0, null);
    private static final Verdict DROP = new Verdict(Kind.DROP, 0, false, 0, null);
    private static final Verdict REPEAT = new Verdict(Kind.REPEAT, 0, false, 0, null);

    private final Kind kind;
    private final int targetQueue;
    private final boolean hasMark;
    private final int mark;
    private final byte[] payload;

    private Verdict(Kind kind, int targetQueue, boolean hasMark, int mark, byte[] payload) {
        this.kind = kind;
        this.targetQueue = targetQueue;
        this.hasMark = hasMark;
        this.mark = mark;
        this.payload = payload;
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

    /** Queue the packet again to queue {@code queueNumber} (0..65535). */
    public static Verdict requeue(int queueNumber) {
        QueueOptions.checkQueueNumber(queueNumber);
        return new Verdict(Kind.REQUEUE, queueNumber, false, 0, null);
    }

    /** This verdict, also setting the packet's mark (all 32 bits; negative ints are marks above 2^31). */
    public Verdict withMark(int mark) {
        return new Verdict(kind, targetQueue, true, mark, payload);
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
        return new Verdict(kind, targetQueue, hasMark, mark, newPacket.clone());
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
                && Arrays.equals(payload, v.payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, targetQueue, hasMark, mark) * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(kind.name());
        if (kind == Kind.REQUEUE) {
            s.append('(').append(targetQueue).append(')');
        }
        if (hasMark) {
            s.append(" mark=0x").append(Integer.toHexString(mark));
        }
        if (payload != null) {
            s.append(" payload=").append(payload.length).append('B');
        }
        return s.toString();
    }
}
