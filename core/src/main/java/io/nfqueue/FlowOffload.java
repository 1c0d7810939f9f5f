package io.nfqueue;

import java.util.Objects;

/**
 * How a queue decides once per flow: which bits of the packet and connection marks are this
 * program's, which values mean "accepted" and "dropped", and how the decision reaches the
 * connection mark. Immutable; every setter validates and returns a new instance.
 *
 * <pre>{@code
 * FlowOffload flows = FlowOffload.mask(0x0030_0000);          // accept 0x0010_0000, drop 0x0020_0000
 * try (NetfilterQueue q = NetfilterQueue.open(QueueOptions.queue(0).flowOffload(flows))) {
 *     q.run(p -> isAllowed(p) ? Verdict.acceptFlow() : Verdict.dropFlow());
 * }
 * // and the rules that make it work, printed for this hook and queue:
 * System.out.println(FlowRules.forQueue(0).hook(Hook.LOCAL_IN).offload(flows).iptables().script());
 * }</pre>
 *
 * <p>A flow verdict ({@link Verdict#acceptFlow()}, {@link Verdict#dropFlow()}) sets the packet
 * mark to {@code (old & ~mask) | value}, so other programs' bits survive; a rule copies it to the
 * connection mark, and rules ahead of the queue rule accept or drop every later packet of the
 * connection by its connection mark, so only connections whose mark bits are 0 reach the queue.
 * How that copy happens is the {@link Mode}. Where the kernel takes a connection mark inside the
 * verdict ({@code CONFIG_NETFILTER_NETLINK_GLUE_CT}, probed at bind), the verdict sets it
 * directly as well, and the copying rules are not needed.
 */
public final class FlowOffload {
    /** How the packet mark of a flow verdict becomes the connection mark when the kernel cannot take it in the verdict. */
    public enum Mode {
        /**
         * The verdict is ACCEPT (also for a drop decision, which carries the drop value); a rule in a
         * later base chain on the same hook copies the mark to the connection and drops the packets
         * marked "dropped". In iptables: queue in {@code mangle}, copy in {@code filter}.
         */
        ACCEPT,
        /**
         * The verdict is REPEAT with the mark: the hook runs again from the head of the chain, where
         * a rule copies the mark to the connection, and the rules after it accept or drop by the
         * connection mark. One table, any hook.
         */
        REPEAT
    }

    private final int mask;
    private final int acceptValue;
    private final int dropValue;
    private final Mode mode;

    private FlowOffload(int mask, int acceptValue, int dropValue, Mode mode) {
        this.mask = mask;
        this.acceptValue = acceptValue;
        this.dropValue = dropValue;
        this.mode = mode;
    }

    /**
     * Flow decisions under {@code mask}: "accepted" is the mask's lowest set bit, "dropped" its
     * second-lowest, mode {@link Mode#ACCEPT}.
     *
     * @throws IllegalArgumentException when the mask has fewer than two bits set
     */
    public static FlowOffload mask(int mask) {
        if (Integer.bitCount(mask) < 2) {
            throw new IllegalArgumentException("flow mark mask 0x" + Integer.toHexString(mask)
                    + " needs at least two bits, one value for accepted flows and one for dropped flows");
        }
        int accept = Integer.lowestOneBit(mask);
        int drop = Integer.lowestOneBit(mask & ~accept);
        return new FlowOffload(mask, accept, drop, Mode.ACCEPT);
    }

    /** The value (inside the mask, not 0, not the drop value) that marks an accepted flow. */
    public FlowOffload acceptValue(int value) {
        checkValue("accept", value, dropValue);
        return new FlowOffload(mask, value, dropValue, mode);
    }

    /** The value (inside the mask, not 0, not the accept value) that marks a dropped flow. */
    public FlowOffload dropValue(int value) {
        checkValue("drop", value, acceptValue);
        return new FlowOffload(mask, acceptValue, value, mode);
    }

    public FlowOffload mode(Mode newMode) {
        return new FlowOffload(mask, acceptValue, dropValue, Objects.requireNonNull(newMode, "mode"));
    }

    private void checkValue(String which, int value, int other) {
        if (value == 0) {
            throw new IllegalArgumentException("the " + which + " value cannot be 0: 0 under the mask means undecided");
        }
        if ((value & ~mask) != 0) {
            throw new IllegalArgumentException("the " + which + " value 0x" + Integer.toHexString(value)
                    + " has bits outside the mask 0x" + Integer.toHexString(mask));
        }
        if (value == other) {
            throw new IllegalArgumentException("the accept and drop values must differ: both 0x" + Integer.toHexString(value));
        }
    }

    public int mask() {
        return mask;
    }

    public int acceptValue() {
        return acceptValue;
    }

    public int dropValue() {
        return dropValue;
    }

    public Mode mode() {
        return mode;
    }

    /** {@code (mark & ~mask) | value}: {@code mark} with this program's bits set to {@code value}. */
    int apply(int mark, int value) {
        return (mark & ~mask) | value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowOffload f && f.mask == mask && f.acceptValue == acceptValue && f.dropValue == dropValue
                && f.mode == mode;
    }

    @Override
    public int hashCode() {
        return Objects.hash(mask, acceptValue, dropValue, mode);
    }

    @Override
    public String toString() {
        return "FlowOffload[mask=0x" + Integer.toHexString(mask) + ", accept=0x" + Integer.toHexString(acceptValue)
                + ", drop=0x" + Integer.toHexString(dropValue) + ", mode=" + mode + "]";
    }
}
