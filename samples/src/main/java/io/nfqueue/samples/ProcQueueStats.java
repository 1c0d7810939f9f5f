package io.nfqueue.samples;

import io.nfqueue.QueueStats;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Reads a queue's line of {@code /proc/net/netfilter/nfnetlink_queue} without binding it: for
 * watching a queue that another program owns. The file shows the queues of the reader's network
 * namespace, so another namespace's is read through {@code nsenter}.
 */
final class ProcQueueStats {
    static final Path PROC = Path.of("/proc/net/netfilter/nfnetlink_queue");

    private ProcQueueStats() {
    }

    /** The queue's line in the proc file of {@code netns} (null: this process's namespace). */
    static Optional<QueueStats> read(Path netns, int queue) {
        String text;
        if (netns == null) {
            if (!Files.exists(PROC)) {
                throw new IllegalStateException(PROC + " does not exist: is the nfnetlink_queue module loaded?");
            }
            try {
                text = Files.readString(PROC);
            } catch (AccessDeniedException e) {
                throw new IllegalStateException("cannot read " + PROC + ": permission denied (the kernel makes it "
                        + "readable by root only, mode 0440): run it as root", e);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + PROC + ": " + e, e);
            }
        } else {
            text = Command.run("nsenter", "--net=" + netns, "cat", PROC.toString());
        }
        return find(text.lines().toList(), queue);
    }

    static Optional<QueueStats> find(List<String> lines, int queue) {
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            QueueStats s = QueueStats.parse(line);
            if (s.queueNumber() == queue) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    static String describe(int queue, Optional<QueueStats> stats) {
        if (stats.isEmpty()) {
            return "queue " + queue + ": not bound";
        }
        QueueStats k = stats.get();
        return "queue " + k.queueNumber() + ": port id " + k.portId() + ", copy mode " + k.copyMode() + " range "
                + k.copyRange() + ", " + counters(k);
    }

    /** The kernel's counters for a queue in words: one wording for every command that shows them. */
    static String counters(QueueStats k) {
        return k.queued() + " waiting for a verdict, " + k.queueDropped() + " dropped (queue full), "
                + k.userDropped() + " dropped (socket full), last id " + k.lastPacketId();
    }
}
