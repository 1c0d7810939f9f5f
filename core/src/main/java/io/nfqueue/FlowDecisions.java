package io.nfqueue;

import io.nfqueue.internal.ConntrackMarks;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Forgets flow decisions kept in connection marks, so that the flows are inspected again.
 *
 * <p>Flow offload keeps a decision in the conntrack entry: the verdict marks the packet, a rule
 * copies that mark to the connection ({@code ct mark & mask == value}), rules in front of the
 * queue rule accept or drop by connection mark, and only {@code ct mark & mask == 0} is queued.
 * After a restart (new rules, a new program version, a policy that changed) the old decisions
 * must go: {@link #forget(int)} sets {@code mark = mark & ~mask} on every conntrack entry whose
 * {@code mark & mask != 0}, so the next packet of each of those flows goes to the queue again.
 * Bits outside the mask (other programs' marks) are left as they are, and no entry is deleted:
 * NAT bindings, TCP state and timeouts survive.
 *
 * <pre>{@code
 * FlowOffload flows = FlowOffload.mask(0x0030_0000);   // the rules test ct mark & 0x00300000 (FlowRules)
 * int forgotten = FlowDecisions.forget(flows);
 * log.info("{} connections will be inspected again", forgotten);
 * try (NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(1).flowOffload(flows))) {
 *     queue.run(packet -> packet.verdict(allowed(packet) ? Verdict.acceptFlow() : Verdict.dropFlow()));
 * }
 * }</pre>
 *
 * <p>It works over ctnetlink (the kernel module {@code nf_conntrack_netlink}): a dump of the
 * table, then one update per matching entry (no need for the {@code conntrack} tool, whose
 * {@code -U -m 0/MASK} (conntrack-tools 1.4.7) the 6.18 kernel this project is tested on refused
 * with "Operation not supported"). It needs
 * {@code CAP_NET_ADMIN}; another namespace needs {@code CAP_SYS_ADMIN} too. A connection that
 * ends while it runs is skipped; one that gets a decision while it runs may keep it or lose it.
 * The result is a snapshot: new decisions may be made as soon as it returns.
 */
public final class FlowDecisions {
    private FlowDecisions() {
    }

    /**
     * Clears the {@code mask} bits of the connection mark of every conntrack entry of this thread's
     * network namespace that has any of them set.
     *
     * @param mask the bits that hold decisions; not 0 (all 32 bits may be used: {@code 0xffffffff})
     * @return how many connections were changed (0 when none had a decision)
     * @throws IllegalArgumentException when {@code mask} is 0
     * @throws MissingPrivilegeException without {@code CAP_NET_ADMIN}
     * @throws UnsupportedKernelFeatureException when the kernel has no ctnetlink ({@code nf_conntrack_netlink})
     * @throws NativeLibraryUnavailableException when the native library cannot be loaded
     * @throws NfQueueException for any other failure, with its errno
     */
    public static int forget(int mask) {
        checkMask(mask);
        return run(mask, null);
    }

    /**
     * Like {@link #forget(int)}, in the network namespace at {@code networkNamespace} (a file such
     * as {@code /var/run/netns/NAME} or {@code /proc/PID/ns/net}); the calling thread enters it
     * for the call and comes back, the process stays where it is.
     *
     * @param mask the bits that hold decisions; not 0
     * @param networkNamespace the namespace file, not null (use {@link #forget(int)} for this thread's)
     * @return how many connections were changed
     * @throws IllegalArgumentException when {@code mask} is 0
     * @throws NullPointerException when {@code networkNamespace} is null
     * @throws NfQueueException when the path is not a network namespace file (saying what it is),
     *     and as {@link #forget(int)}; entering the namespace needs {@code CAP_SYS_ADMIN}
     *     ({@link MissingPrivilegeException})
     */
    public static int forget(int mask, Path networkNamespace) {
        checkMask(mask);
        Objects.requireNonNull(networkNamespace,
                "networkNamespace is null: use FlowDecisions.forget(mask) for this thread's network namespace");
        NamespacePaths.check(networkNamespace);
        return run(mask, networkNamespace);
    }

    /** {@link #forget(int)} for the mask of {@code offload}. */
    public static int forget(FlowOffload offload) {
        return forget(Objects.requireNonNull(offload, "offload").mask());
    }

    /** {@link #forget(int, Path)} for the mask of {@code offload}. */
    public static int forget(FlowOffload offload, Path networkNamespace) {
        return forget(Objects.requireNonNull(offload, "offload").mask(), networkNamespace);
    }

    private static void checkMask(int mask) {
        if (mask == 0) {
            throw new IllegalArgumentException("mask is 0: give the connection mark bits that hold flow decisions "
                    + "(the mask the rules test, as in 'ct mark & 0x00300000'); a mask of 0 would forget nothing");
        }
    }

    private static int run(int mask, Path networkNamespace) {
        int rc = NativeAccess.call(() -> ConntrackMarks.clear(mask, networkNamespace), networkNamespace);
        if (rc < 0) {
            throw ErrorMapper.conntrackFailure("clear connection marks 0x" + Integer.toHexString(mask)
                    + (networkNamespace == null ? "" : " in network namespace " + networkNamespace), -rc);
        }
        return rc;
    }
}
