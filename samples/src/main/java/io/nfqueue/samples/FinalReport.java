package io.nfqueue.samples;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Prints a long-running command's final counters exactly once, whether the command ends by itself
 * (its --duration or --count) or on Ctrl-C (SIGINT) or SIGTERM. On a signal the JVM runs its
 * shutdown hooks and then halts, wherever the main thread is: a report the main thread would
 * print after its loop is lost unless the hook waits for it. So the hook stops the work, waits
 * (at most {@link #WAIT_MILLIS}) for the main thread to see that and print, and prints itself if
 * the main thread has not.
 *
 * <pre>{@code
 * try (FinalReport last = new FinalReport("firewall", queue::close, () -> out.println(report()))) {
 *     loop();            // ends when the hook closes the queue
 *     last.print();      // the main thread's normal end
 * }                      // close(): lets a waiting hook finish, removes it otherwise
 * }</pre>
 */
final class FinalReport implements AutoCloseable {
    static final long WAIT_MILLIS = 5000;

    private final Runnable print;
    private final Thread hook;
    private final CountDownLatch mainDone = new CountDownLatch(1);
    private boolean printed;

    /**
     * @param command names the hook's thread
     * @param stop    ends the main thread's loop (closes the queue, disposes the subscription)
     * @param print   prints the final counters
     */
    FinalReport(String command, Runnable stop, Runnable print) {
        this.print = print;
        this.hook = new Thread(() -> {
            try {
                stop.run();
            } catch (RuntimeException e) {
                // stopped already, or cannot be: the counters are still worth printing
            }
            try {
                mainDone.await(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            printOnce();
        }, "nfq-" + command + "-stop");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Prints the final counters, unless they were printed already. */
    void print() {
        printOnce();
    }

    private synchronized void printOnce() {
        if (!printed) {
            printed = true;
            print.run();
        }
    }

    /** The main thread is done, normally or not: a hook that waits goes on; otherwise the hook is removed. */
    @Override
    public void close() {
        mainDone.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // Ctrl-C or SIGTERM: the hook runs and finds the counters printed.
        }
    }
}
