package io.nfqueue.samples;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Undo actions run once, newest first: by {@link #close()} on a normal or failed exit, or by a
 * JVM shutdown hook on Ctrl-C (SIGINT) or SIGTERM, whichever comes first. A failing action is
 * reported and the others still run.
 */
final class Cleanup implements AutoCloseable {
    private final Deque<Action> actions = new ArrayDeque<>();
    private final PrintStream err;
    private final Thread hook;
    private volatile boolean stopping;

    private record Action(String what, Runnable undo) {
    }

    Cleanup(PrintStream err) {
        this.err = err;
        this.hook = new Thread(() -> {
            stopping = true;
            err.println("stopping: cleaning up");
            runAll();
        }, "nfq-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Registers {@code undo}, described by {@code what} (e.g. "delete namespace nfq-demo-1"). */
    synchronized void add(String what, Runnable undo) {
        actions.push(new Action(what, undo));
    }

    /** True once the JVM is shutting down (Ctrl-C, SIGTERM) and the hook has started. */
    boolean stopping() {
        return stopping;
    }

    private synchronized void runAll() {
        while (!actions.isEmpty()) {
            Action a = actions.pop();
            try {
                a.undo().run();
            } catch (RuntimeException e) {
                err.println("cleanup: could not " + a.what() + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        runAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down: the hook has run or will find nothing to do.
        }
    }
}
