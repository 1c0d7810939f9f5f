package io.nfqueue;

import java.util.OptionalLong;

/** Another netlink socket, usually another process, owns the queue number. */
public class QueueAlreadyBoundException extends NfQueueException {
    private static final long serialVersionUID = 1L;

    private final int queueNumber;
    private final long ownerPortId;
    private final long ownerPid;

    public QueueAlreadyBoundException(String message, String operation, int errno, int queueNumber,
                                      long ownerPortId, long ownerPid) {
        super(message, operation, errno, null);
        this.queueNumber = queueNumber;
        this.ownerPortId = ownerPortId;
        this.ownerPid = ownerPid;
    }

    public int queueNumber() {
        return queueNumber;
    }

    /** The owner's netlink port id, from {@code /proc/net/netfilter/nfnetlink_queue}. */
    public long ownerPortId() {
        return ownerPortId;
    }

    /**
     * The owning process, when it could be found: the port id of a process's first netlink
     * socket is its pid.
     */
    public OptionalLong ownerPid() {
        return ownerPid > 0 ? OptionalLong.of(ownerPid) : OptionalLong.empty();
    }
}
