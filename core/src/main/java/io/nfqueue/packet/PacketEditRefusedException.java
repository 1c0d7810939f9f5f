package io.nfqueue.packet;

/**
 * {@link PacketEditor} will not make this edit: the packet would come out wrong in a way the
 * kernel neither fixes nor reports (see {@link Reason}). The message says which edit and why,
 * and what to do instead.
 *
 * <p>It extends {@link IllegalStateException}: the packet's state (a truncated copy, a GSO
 * super-packet, a fragment) rules the edit out, not a bad argument.
 */
public class PacketEditRefusedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** Why an edit is refused. */
    public enum Reason {
        /**
         * The copy is shorter than the packet (copy range smaller than the packet): a payload
         * built from it would replace the packet with its first bytes.
         */
        TRUNCATED,
        /**
         * A GSO super-packet (larger than the MTU, segmented later by the kernel): the kernel
         * marks a replaced payload's checksum as complete, which a packet still to be segmented
         * cannot honour, and a length change breaks its segment sizes. Bind with
         * {@code QueueOptions.gso(false)} to receive segments instead.
         */
        GSO,
        /**
         * An IP fragment: the transport header and checksum span fragments this packet does not
         * hold, so addresses, ports and the transport payload cannot be changed consistently.
         */
        FRAGMENT,
        /**
         * The transport protocol has no ports, or its checksum is one this package does not
         * compute (e.g. SCTP, DCCP, UDP-Lite, ESP): the edit would leave it wrong.
         */
        UNSUPPORTED_PROTOCOL,
        /**
         * A TCP segment's length would change: the peer would acknowledge bytes the sender never
         * sent and the connection stalls, unless the program also rewrites sequence numbers of
         * every later segment. Allowed with {@link PacketEditor#allowTcpLengthChange()}.
         */
        TCP_LENGTH_CHANGE,
        /**
         * The kernel flagged the packet checksum-not-ready (its transport checksum is to be
         * filled in later) and this package cannot compute that protocol's checksum: the
         * kernel treats a replaced payload's checksum as complete, so any edit would leave it
         * wrong.
         */
        CHECKSUM_NOT_READY,
        /**
         * An IPsec authentication header covers the addresses and the payload with a keyed
         * hash this package cannot recompute.
         */
        AUTHENTICATED
    }

    private final Reason reason;

    public PacketEditRefusedException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    /** Why the edit was refused. */
    public Reason reason() {
        return reason;
    }
}
