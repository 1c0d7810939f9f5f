package io.nfqueue.internal;

import io.nfqueue.QueueStats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads {@code /proc/net/netfilter/nfnetlink_queue}. The file shows the queues of the reading
 * thread's network namespace, so for another namespace the read happens on a thread moved there
 * ({@code /proc/thread-self/net} follows the thread, {@code /proc/self/net} the process).
 */
public final class ProcNetfilterQueue {
    private static final Path THREAD_FILE = Paths.get("/proc/thread-self/net/netfilter/nfnetlink_queue");

    private ProcNetfilterQueue() {
    }

    /** Every bound queue of the namespace at {@code netns}, or of this thread's when null. */
    public static List<QueueStats> readAll(Path netns) {
        if (netns == null) {
            return read();
        }
        return NetworkNamespaces.callUnchecked(netns, ProcNetfilterQueue::read);
    }

    /** The line of queue {@code number} in the namespace at {@code netns} (null: this thread's). */
    public static Optional<QueueStats> find(Path netns, int number) {
        for (QueueStats s : readAll(netns)) {
            if (s.queueNumber() == number) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    private static List<QueueStats> read() {
        List<String> lines;
        try {
            lines = Files.readAllLines(THREAD_FILE);
        } catch (NoSuchFileException e) {
            // The file appears once nfnetlink_queue is loaded; before that no queue is bound.
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + THREAD_FILE, e);
        }
        List<QueueStats> result = new ArrayList<>(lines.size());
        for (String line : lines) {
            if (!line.isBlank()) {
                result.add(QueueStats.parse(line));
            }
        }
        return result;
    }
}
