package io.nfqueue.testing;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A child process that owns a queue: {@code HoldQueueMain QUEUE NETNS_PATH} binds QUEUE in the
 * namespace, prints {@code BOUND <pid> <portId>}, and keeps it until its stdin closes (the test
 * ended or died) or 120 s pass, so it can never outlive the test run for long.
 */
public final class HoldQueueMain {
    private HoldQueueMain() {
    }

    public static void main(String[] args) throws Exception {
        int queue = Integer.parseInt(args[0]);
        Path netns = Path.of(args[1]);
        try (NetfilterQueue q = NetfilterQueue.open(QueueOptions.queue(queue).networkNamespace(netns))) {
            System.out.println("BOUND " + ProcessHandle.current().pid() + " " + Integer.toUnsignedString(q.handle().portId()));
            Thread stdinWatch = new Thread(() -> {
                try {
                    while (System.in.read() >= 0) {
                        // Wait for end of input: the parent is gone or done.
                    }
                } catch (Exception ignored) {
                    // Same: the parent is gone.
                }
            }, "stdin-watch");
            stdinWatch.setDaemon(true);
            stdinWatch.start();
            stdinWatch.join(TimeUnit.SECONDS.toMillis(120));
        }
        System.out.println("UNBOUND");
    }
}
