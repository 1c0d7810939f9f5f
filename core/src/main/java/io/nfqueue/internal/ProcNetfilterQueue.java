package io.nfqueue.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * Reads {@code /proc/net/netfilter/nfnetlink_queue}. The file shows the queues of the reading
 * thread's network namespace, so for another namespace the read happens on a thread moved there
 * ({@code /proc/thread-self/net} follows the thread, {@code /proc/self/net} the process). The
 * lines are parsed by {@code io.nfqueue.QueueStats}.
 */
public final class ProcNetfilterQueue {
    private static final Path THREAD_FILE = Paths.get("/proc/thread-self/net/netfilter/nfnetlink_queue");

    private ProcNetfilterQueue() {
    }

    /** The file's lines in the namespace at {@code netns} (null: this thread's); none before the module loads. */
    public static List<String> readLines(Path netns) {
        if (netns == null) {
            return read();
        }
        return NetworkNamespaces.callUnchecked(netns, ProcNetfilterQueue::read);
    }

    private static List<String> read() {
        try {
            return Files.readAllLines(THREAD_FILE);
        } catch (NoSuchFileException e) {
            // The file appears once nfnetlink_queue is loaded; before that no queue is bound.
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + THREAD_FILE, e);
        }
    }
}
