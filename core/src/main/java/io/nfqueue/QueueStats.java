package io.nfqueue;

/**
 * One line of {@code /proc/net/netfilter/nfnetlink_queue}: the kernel's view of a bound queue
 * in one network namespace. It does not show the max-length.
 *
 * @param queueNumber  the queue number
 * @param portId       netlink port id of the owning socket (the pid, for a process's first socket)
 * @param queued       packets the kernel holds: delivered or not, waiting for a verdict
 * @param copyMode     0 none, 1 meta, 2 packet
 * @param copyRange    bytes copied per packet
 * @param queueDropped packets dropped because the queue was at max-length (not counted under fail-open)
 * @param userDropped  packets dropped because the netlink socket buffer was full (ENOBUFS)
 * @param lastPacketId the id given to the last packet queued
 */
public record QueueStats(int queueNumber, long portId, long queued, int copyMode, int copyRange,
                         long queueDropped, long userDropped, long lastPacketId) {

    /** Parses one line of the proc file; throws {@link IllegalArgumentException} naming the line. */
    public static QueueStats parse(String line) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 8) {
            throw new IllegalArgumentException("not an nfnetlink_queue line (" + f.length + " fields): " + line);
        }
        try {
            return new QueueStats(Integer.parseInt(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]),
                    Integer.parseInt(f[3]), Integer.parseInt(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]),
                    Long.parseLong(f[7]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an nfnetlink_queue line: " + line, e);
        }
    }
}
