package io.nfqueue;

import io.nfqueue.internal.ProcNetfilterQueue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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

    /**
     * Every bound queue of the network namespace at {@code netns} (null: this thread's), as the
     * kernel shows them now; empty when the module is not loaded. Reading needs root (the file is
     * mode 0440); another namespace needs CAP_SYS_ADMIN too (the read happens on a thread moved
     * there).
     */
    public static List<QueueStats> readAll(Path netns) {
        if (netns != null) {
            NamespacePaths.check(netns);
        }
        List<QueueStats> all = new ArrayList<>();
        for (String line : NativeAccess.call(() -> ProcNetfilterQueue.readLines(netns), netns)) {
            if (!line.isBlank()) {
                all.add(parse(line));
            }
        }
        return all;
    }

    /** Queue {@code number}'s line in the namespace at {@code netns} (null: this thread's), if it is bound. */
    public static Optional<QueueStats> find(Path netns, int number) {
        for (QueueStats s : readAll(netns)) {
            if (s.queueNumber() == number) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

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
