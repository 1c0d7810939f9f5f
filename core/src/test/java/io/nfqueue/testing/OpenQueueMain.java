package io.nfqueue.testing;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;

/**
 * A child process that tries to bind a queue: {@code OpenQueueMain QUEUE} prints
 * {@code OPENED} or {@code FAILED <exception class> <message>} and exits. Run unprivileged
 * (setpriv) to see what a user without CAP_NET_ADMIN is told.
 */
public final class OpenQueueMain {
    private OpenQueueMain() {
    }

    public static void main(String[] args) {
        try (NetfilterQueue q = NetfilterQueue.open(QueueOptions.queue(Integer.parseInt(args[0])))) {
            System.out.println("OPENED");
        } catch (RuntimeException e) {
            System.out.println("FAILED " + e.getClass().getName() + " " + e.getMessage().replace('\n', ' '));
        }
    }
}
